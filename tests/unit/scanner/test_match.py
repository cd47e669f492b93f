"""The matcher over an in-memory fake of the vulnerability DB's two reads."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from tidegate.scanner.match import distro_namespace, match_inventory
from tidegate.scanner.model import Distro, Inventory, Package, PackageManager
from tidegate.scanner.severity import Severity
from tidegate.scanner.versions import AffectedRange, RangeEvent, Verdict
from tidegate.scanner.vulndb.entries import PackageEntries
from tidegate.scanner.vulndb.model import Advisory, AffectedPackage, FixState
from tidegate.scanner.vulndb.updaters.common import fan_out_by_cve


class FakeStore:
    def __init__(self, advisories: list[Advisory]) -> None:
        self.advisories = advisories

    def package(self, namespace: str, name: str) -> PackageEntries:
        return PackageEntries.of(namespace, name, self.advisories)

    def header(self, vuln_id: str, aliases: Iterable[str] = ()) -> Advisory | None:
        found = [a for a in self.advisories if a.id == vuln_id]
        return found[0] if found else None


def fixed_at(namespace: str, name: str, version: str) -> AffectedPackage:
    events = (RangeEvent(introduced="0"), RangeEvent(fixed=version))
    return AffectedPackage(
        namespace, name, (AffectedRange("ECOSYSTEM", events),), fix=FixState.FIXED,
        fixed_version=version,
    )  # fmt: skip


def deb(name: str, version: str, source: str = "", source_version: str = "") -> Package:
    return Package(name, version, "Debian", PackageManager.OS, source_name=source,
                   source_version=source_version)  # fmt: skip


BOOKWORM = Distro("debian", "12", "bookworm")


@pytest.mark.parametrize(
    ("distro", "namespace"),
    [
        (Distro("debian", "12"), "Debian:12"),
        (Distro("ubuntu", "22.04"), "Ubuntu:22.04"),
        (Distro("alpine", "3.19.1"), "Alpine:v3.19"),
        (Distro("rocky", "9.3"), "AlmaLinux:9"),
        (Distro("amzn", "2023"), "Amazon Linux:2023"),
        (Distro("amzn", "2018.03"), "Amazon Linux:1"),
        (Distro("wolfi", "20230201"), None),
        (Distro("debian", "12", recognised=False), None),
        (None, None),
    ],
)
def test_distro_namespaces(distro: Distro | None, namespace: str | None) -> None:
    assert distro_namespace(distro) == namespace


def test_debian_binaries_match_by_source_package_and_version() -> None:
    store = FakeStore([Advisory("CVE-2023-0001", "debian-osv",
                                affected=(fixed_at("Debian:12", "glibc", "2.36-9+deb12u4"),),
                                severity=Severity.HIGH)])  # fmt: skip
    inv = Inventory(
        BOOKWORM,
        (
            deb("libc6", "2.36-9+deb12u3", "glibc", "2.36-9+deb12u3"),
            deb("libc-bin", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4"),
        ),
    )
    found = match_inventory(inv, store)
    assert [(f.vuln_id, f.target.package.name) for f in found] == [("CVE-2023-0001", "libc6")]
    assert found[0].fixed_in == "2.36-9+deb12u4"


def test_aliases_merge_and_cve_names_the_finding() -> None:
    ghsa = Advisory("GHSA-aaaa-bbbb-cccc", "ghsa-pip", aliases=("CVE-2024-1",),
                    affected=(fixed_at("PyPI", "django", "4.2.1"),))  # fmt: skip
    pysec = Advisory("PYSEC-2024-9", "pypa-osv", aliases=("CVE-2024-1",),
                     affected=(fixed_at("PyPI", "django", "4.2.1"),))  # fmt: skip
    inv = Inventory(None, (Package("Django", "4.2.0", "PyPI", PackageManager.PYTHONPKG),))
    (finding,) = match_inventory(inv, FakeStore([ghsa, pysec]))
    assert finding.vuln_id == "CVE-2024-1"
    assert finding.aliases == ("GHSA-aaaa-bbbb-cccc", "PYSEC-2024-9")


def test_distro_advisory_bundling_known_cves_adds_no_finding() -> None:
    """The DB stores a DSA as one advisory per CVE it fixes, so it only adds an alias."""
    cve = Advisory("CVE-2024-2222", "debian-osv", affected=(fixed_at("Debian:12", "curl", "8.0"),))
    dsa = Advisory("DSA-5555-1", "debian-osv", related=("CVE-2024-2222",),
                   affected=(fixed_at("Debian:12", "curl", "8.0"),))  # fmt: skip
    inv = Inventory(BOOKWORM, (deb("curl", "7.88.1-10", "curl", "7.88.1-10"),))
    (finding,) = match_inventory(inv, FakeStore([cve, *fan_out_by_cve(dsa)]))
    assert (finding.vuln_id, finding.aliases) == ("CVE-2024-2222", ("DSA-5555-1",))


def test_unparsable_version_is_reported_unknown_not_dropped() -> None:
    store = FakeStore([Advisory("CVE-2024-3", "ghsa-npm",
                                affected=(fixed_at("npm", "left-pad", "1.3.0"),))])  # fmt: skip
    inv = Inventory(None, (Package("left-pad", "not a version", "npm", PackageManager.NODEPKG),))
    (finding,) = match_inventory(inv, store)
    assert finding.verdict is Verdict.UNKNOWN


def test_basic_scans_leave_language_packages_out() -> None:
    store = FakeStore([Advisory("CVE-2024-4", "ghsa-npm",
                                affected=(fixed_at("npm", "lodash", "4.17.21"),))])  # fmt: skip
    inv = Inventory(BOOKWORM, (Package("lodash", "4.17.15", "npm", PackageManager.NODEPKG),))
    assert match_inventory(inv, store, include_language=False) == []
    assert [f.vuln_id for f in match_inventory(inv, store)] == ["CVE-2024-4"]
