"""A vulnerable module at two locations is two findings, each naming its own file.

Inspector and ECR name one `filePath` per vulnerable package, so a finding per location is
what lets a user find every copy; the stored finding key includes the path for the same
reason. The inventory comes from the real builder over a one-layer image.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tests.support import lang_binaries as lb
from tests.support.lang_rootfs import analyze_tree
from tidegate.engine.findings import finding_key
from tidegate.scanner.match import match_inventory
from tidegate.scanner.model import Inventory
from tidegate.scanner.severity import Severity
from tidegate.scanner.versions import AffectedRange, RangeEvent
from tidegate.scanner.vulndb.entries import PackageEntries
from tidegate.scanner.vulndb.model import Advisory, AffectedPackage, FixState

TEXT = "golang.org/x/text"
GO_LINES = (
    "path\texample.com/app",
    "mod\texample.com/app\t(devel)\t",
    f"dep\t{TEXT}\tv0.3.7\th1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=",
)
ADVISORY = Advisory(
    "GO-2022-1059",
    "osv-go",
    aliases=("CVE-2022-32149",),
    affected=(
        AffectedPackage(
            "Go", TEXT,
            (AffectedRange("SEMVER", (RangeEvent(introduced="0"), RangeEvent(fixed="0.3.8"))),),
            fix=FixState.FIXED, fixed_version="0.3.8",
        ),
    ),
    severity=Severity.HIGH,
)  # fmt: skip


class OneAdvisoryStore:
    """The DB's two reads over one advisory held in memory."""

    def package(self, namespace: str, name: str) -> PackageEntries:
        return PackageEntries.of(namespace, name, [ADVISORY])

    def header(self, vuln_id: str, aliases: Iterable[str] = ()) -> Advisory | None:
        return ADVISORY if vuln_id == ADVISORY.id else None


def test_a_module_in_two_binaries_gives_one_finding_per_file(tmp_path: Path) -> None:
    binary = lb.go_elf("go1.21.3", GO_LINES)
    for rel in ("usr/bin/a", "opt/tool/b"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(binary)
        (tmp_path / rel).chmod(0o755)
    inventory = Inventory(None, analyze_tree(tmp_path).packages)
    found = [f for f in match_inventory(inventory, OneAdvisoryStore()) if f.target.name == TEXT]
    assert sorted(f.target.package.path for f in found) == ["opt/tool/b", "usr/bin/a"]
    assert {f.vuln_id for f in found} == {"CVE-2022-32149"}
    assert len({finding_key(f) for f in found}) == 2
