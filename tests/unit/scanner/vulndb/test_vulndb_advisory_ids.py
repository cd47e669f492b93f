"""A distro advisory fixing several CVEs stays several vulnerabilities, built from real records.

DLA-3942-1 (openssl, bullseye) lists six CVEs. The DB fans it out into one record per CVE,
each carrying the DLA id as an alias; joining records through that shared id once merged
the six into one finding, so CVE-2024-0727 and four others went unreported on Debian 11's
libssl1.1 1.1.1w-0+deb11u1 (the quality gate's debian11 false negatives).
"""

from __future__ import annotations

import tarfile

import pytest

from tests.support.paths import VULNDATA
from tests.unit.scanner.vulndb.mirror import write_tar_xz
from tidegate.scanner.match import match_inventory
from tidegate.scanner.model import Distro, Inventory, Package, PackageManager
from tidegate.scanner.vulndb.manager import update
from tidegate.scanner.vulndb.merge import same_vulnerability
from tidegate.scanner.vulndb.store import VulnStore

RECORDS = (
    "debian-osv/CVE/2024/CVE-2024-0727.json",
    "debian-osv/CVE/2024/CVE-2024-2511.json",
    "debian-osv/DLA/2024/DLA-3942-1.json",
    "debian-osv/DLA/2024/DLA-3942-2.json",
)
REL = "debian-osv/debian-osv.tar.xz"
A, B = "CVE-2024-0001", "CVE-2024-0002"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> VulnStore:
    root = tmp_path_factory.mktemp("dla")
    files = []
    with tarfile.open(VULNDATA / REL, "r:xz") as tar:
        for info in tar:
            if info.name in RECORDS:
                fh = tar.extractfile(info)
                assert fh is not None
                files.append((info.name, fh.read()))
    assert sorted(n for n, _ in files) == sorted(RECORDS)
    write_tar_xz(root / "mirror" / REL, files)
    result = update(root / "vulndb", mirror=str(root / "mirror"), only=["debian-osv"])
    assert result.published
    return VulnStore(root / "vulndb")


def test_each_cve_of_a_dla_is_its_own_entry(store: VulnStore) -> None:
    by_id = {a.id: a for a in store.lookup("Debian:11", "openssl")}
    assert {"CVE-2023-5678", "CVE-2024-0727", "CVE-2024-2511", "CVE-2024-4741",
            "CVE-2024-5535", "CVE-2024-9143", "DLA-3942-2"} == set(by_id)  # fmt: skip
    assert "DLA-3942-1" in by_id["CVE-2024-0727"].aliases
    assert "CVE-2024-2511" not in by_id["CVE-2024-0727"].aliases


def test_bullseye_libssl_reports_every_cve_the_tracker_leaves_open(store: VulnStore) -> None:
    """Debian:11 fixed CVE-2024-0727 and CVE-2024-2511 in 1.1.1w-0+deb11u2; the other CVEs
    of DLA-3942-1 were fixed in 1.1.1n-0+deb11u6 and are not reported."""
    pkg = Package("libssl1.1", "1.1.1w-0+deb11u1", "Debian", PackageManager.OS,
                  source_name="openssl", source_version="1.1.1w-0+deb11u1")  # fmt: skip
    found = match_inventory(Inventory(Distro("debian", "11", "bullseye"), (pkg,)), store)
    assert [f.vuln_id for f in found] == ["CVE-2024-0727", "CVE-2024-2511", "DLA-3942-2"]
    cve = found[0]
    assert "DLA-3942-1" in cve.aliases
    assert "1.1.1w-0+deb11u2" in cve.fixed_in.split(", ")


@pytest.mark.parametrize(
    ("records", "groups"),
    [
        # one DLA fanned out per CVE: the shared DLA id joins nothing
        ([(A, "DLA-1"), (B, "DLA-1")], [[0], [1]]),
        # the CVE's own record and the DLA's copy of it are one
        ([(A, "DLA-1"), (A, "GHSA-a"), (B, "DLA-1")], [[0, 1], [2]]),
        # a record naming two CVEs says they are one
        ([("GHSA-a", A, B), (A,), (B,)], [[0, 1, 2]]),
        # records without a CVE join through their own aliases, then the one CVE they reach
        ([("GO-1", "GHSA-a"), ("GHSA-a", A), (A, "PYSEC-1")], [[0, 1, 2]]),
        ([("GO-1", "GHSA-a"), ("GHSA-b",)], [[0], [1]]),
        # a CVE-less record sharing an id with two CVEs belongs to neither
        ([(A, "DLA-1"), (B, "DLA-1"), ("DLA-1",)], [[0], [1], [2]]),
    ],
)
def test_same_vulnerability(records: list[tuple[str, ...]], groups: list[list[int]]) -> None:
    items = list(range(len(records)))
    got = same_vulnerability(items, lambda n: records[n])
    assert sorted(got) == groups
