"""Feed ratings and fix states from real records of the mirror, and bad input that falls back.

The records are read from the snapshot's archives once (a few seconds of xz) and kept under
.cache/vulndb-tests; malformed variants are those real records with one field changed.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import VULNDATA
from tests.unit.scanner.vulndb.mirror import CACHE
from tidegate.scanner.severity import Severity
from tidegate.scanner.vulndb.manager import update
from tidegate.scanner.vulndb.model import Advisory, FixState
from tidegate.scanner.vulndb.payloads import DirPayload
from tidegate.scanner.vulndb.store import VulnStore
from tidegate.scanner.vulndb.updaters.amazon import AmazonAlasUpdater
from tidegate.scanner.vulndb.updaters.base import Fallback
from tidegate.scanner.vulndb.updaters.osv import OsvUpdater
from tidegate.scanner.vulndb.updaters.ubuntu import UbuntuTrackerUpdater

RECORDS = {
    "debian-osv/debian-osv.tar.xz": (
        "debian-osv/CVE/2019/CVE-2019-1010022.json",  # glibc: unimportant, NVD 9.8
        "debian-osv/CVE/2014/CVE-2014-7250.json",  # kfreebsd-10 in Debian 10: end-of-life
        "debian-osv/CVE/2002/CVE-2002-0639.json",  # high
    ),
    "ubuntu-cve-tracker/ubuntu-cve-tracker.tar.xz": (
        "ubuntu-cve-tracker/2005/CVE-2005-0023.json",  # negligible
        "ubuntu-cve-tracker/2012/CVE-2012-0880.json",  # deferred in jammy
        "ubuntu-cve-tracker/2007/CVE-2007-4559.json",  # ignored, no end-of-life note
        "ubuntu-cve-tracker/1999/CVE-1999-1572.json",  # untriaged
    ),
}


@pytest.fixture(scope="module")
def records() -> dict[str, dict[str, Any]]:
    """The named records by file name (CVE-....json), from the real archives."""
    root = CACHE / "rating-records-v1"
    wanted = {Path(n).name for names in RECORDS.values() for n in names}
    if not all((root / n).exists() for n in wanted):
        root.mkdir(parents=True, exist_ok=True)
        for archive, names in RECORDS.items():
            left = set(names)
            with tarfile.open(VULNDATA / archive, "r:xz") as tar:
                for info in tar:
                    if info.name in left:
                        fh = tar.extractfile(info)
                        assert fh is not None
                        (root / Path(info.name).name).write_bytes(fh.read())
                        left.discard(info.name)
                        if not left:
                            break
            assert not left, left
    return {n: json.loads((root / n).read_text()) for n in wanted}


def _parse(updater: Any, docs: dict[str, Any], tmp: Path) -> tuple[list[Advisory], list[Fallback]]:
    tmp.mkdir(parents=True, exist_ok=True)
    for name, doc in docs.items():
        (tmp / name).write_text(json.dumps(doc))
    items = list(updater.parse(DirPayload(tmp)))
    return (
        [i for i in items if isinstance(i, Advisory)],
        [i for i in items if isinstance(i, Fallback)],
    )


def _debian(tmp: Path) -> OsvUpdater:
    return OsvUpdater("debian-osv", "", tmp, fan_out=True, cvss_source="NVD")


def test_debian_urgency_per_release(records: dict[str, Any], tmp_path: Path) -> None:
    names = ("CVE-2019-1010022.json", "CVE-2014-7250.json", "CVE-2002-0639.json")
    advs, faults = _parse(_debian(tmp_path), {n: records[n] for n in names}, tmp_path / "r")
    assert faults == []
    glibc = next(a for a in advs if a.id == "CVE-2019-1010022")
    debian = {p.namespace: p for p in glibc.affected if p.name == "glibc"}
    assert {"Debian:11", "Debian:12", "Debian:13"} <= set(debian)
    for pkg in debian.values():
        assert pkg.rating is not None
        assert (pkg.rating.raw, pkg.rating.rating) == ("unimportant", Severity.INFORMATIONAL)
        assert pkg.fix is FixState.NOT_FIXED
    (cvss,) = glibc.severities
    assert (cvss.version, cvss.score, cvss.source) == ("3.0", 9.8, "NVD")
    (eol,) = next(a for a in advs if a.id == "CVE-2014-7250").affected
    assert (eol.namespace, eol.fix, eol.rating) == ("Debian:10", FixState.END_OF_LIFE, None)
    old = next(a for a in advs if a.id == "CVE-2002-0639")
    rated = {p.rating.rating for p in old.affected if p.rating is not None}
    assert Severity.HIGH in rated


def test_debian_bad_urgency_and_vector_fall_back_and_are_counted(
    records: dict[str, Any], tmp_path: Path
) -> None:
    doc = json.loads(json.dumps(records["CVE-2019-1010022.json"]))
    urgencies = ["bogus", "low*", "not yet assigned"]
    for entry, word in zip(
        (a for a in doc["affected"] if a["package"]["ecosystem"].startswith("Debian")),
        urgencies, strict=False,
    ):  # fmt: skip
        entry["ecosystem_specific"]["urgency"] = word
    doc["severity"].append({"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:Q"})
    advs, faults = _parse(_debian(tmp_path), {"r.json": doc}, tmp_path / "r")
    (adv,) = advs  # kept, never skipped
    assert all(p.rating is None for p in adv.affected if p.namespace.startswith("Debian"))
    assert [c.vector for c in adv.severities] == [records["CVE-2019-1010022.json"]["severity"][0]
                                                  ["score"]]  # fmt: skip
    reasons = sorted(f.reason for f in faults)
    assert len(reasons) == 2  # the unknown word and the bad vector; `*` is only provisional
    assert "unknown debian rating 'bogus'" in reasons[1]
    assert "malformed CVSS vector" in reasons[0]

    # Through `db update`: counted per source, and the entry falls back to NVD's CVSS.
    mirror = tmp_path / "mirror"
    archive_dir = mirror / "debian-osv" / "debian-osv.tar.xz"  # a directory source
    archive_dir.mkdir(parents=True)
    (archive_dir / "CVE-2019-1010022.json").write_text(json.dumps(doc))
    result = update(tmp_path / "db", mirror=str(mirror), only=["debian-osv"], workers=1)
    (src,) = [s for s in result.sources if s.name == "debian-osv"]
    assert (src.status, src.records, src.skipped, src.fallbacks) == ("updated", 1, 0, 2)
    store = VulnStore(tmp_path / "db")
    assert [s.fallbacks for s in store.version_info().sources if s.name == "debian-osv"] == [2]
    assert any(r.startswith("fallback: ") for _s, _w, r in store.skips("debian-osv"))
    by_ns = {
        ns: next(a for a in store.lookup(ns, "glibc") if a.id == "CVE-2019-1010022")
        for ns in ("Debian:11", "Debian:12", "Debian:13")
    }
    assert {a.severity for a in by_ns.values()} == {Severity.CRITICAL}  # NVD's 9.8
    store.close()


def test_ubuntu_priority_and_fix_states(records: dict[str, Any], tmp_path: Path) -> None:
    names = ("CVE-2005-0023.json", "CVE-2012-0880.json", "CVE-2007-4559.json",
             "CVE-1999-1572.json")  # fmt: skip
    updater = UbuntuTrackerUpdater("ubuntu-cve-tracker", "", tmp_path)
    advs, faults = _parse(updater, {n: records[n] for n in names}, tmp_path / "r")
    assert faults == []
    by_id = {a.id: a for a in advs}
    negligible = by_id["CVE-2005-0023"].distro_severity
    assert negligible is not None
    assert negligible.rating is Severity.INFORMATIONAL
    assert by_id["CVE-1999-1572"].distro_severity is None  # untriaged falls back
    jammy = {
        p.name: p.fix for p in by_id["CVE-2012-0880"].affected if p.namespace == "Ubuntu:22.04"
    }
    assert FixState.DEFERRED in jammy.values()
    ignored = {p.fix for p in by_id["CVE-2007-4559"].affected if p.namespace == "Ubuntu:22.04"}
    assert FixState.WONT_FIX in ignored

    bad = json.loads(json.dumps(records["CVE-2005-0023.json"]))
    bad["priority"] = "urgent"
    bad["cvss"] = {"nvd": " CVSS:3.1/AV:Z [9.9 CRITICAL]"}
    advs, faults = _parse(updater, {"bad.json": bad}, tmp_path / "bad")
    (adv,) = advs
    assert adv.distro_severity is None
    assert adv.severities == ()
    assert len(faults) == 2


def test_amazon_unknown_severity_falls_back(tmp_path: Path) -> None:
    src = VULNDATA / "samples/amazon-linux-alas/2023/core/2023/ALAS2023-2023-355.json"
    doc = json.loads(src.read_text())
    doc["Severity"] = "Severe"
    dest = tmp_path / "2023/core/2023"
    dest.mkdir(parents=True)
    (dest / "ALAS2023-2023-355.json").write_text(json.dumps(doc))
    items = list(AmazonAlasUpdater("amazon-alas", "", tmp_path).parse(DirPayload(tmp_path)))
    advs = [i for i in items if isinstance(i, Advisory)]
    assert advs
    assert all(a.distro_severity is None for a in advs)
    assert [i.reason for i in items if isinstance(i, Fallback)] == [
        "unknown amazon rating 'Severe'"
    ]


def test_ghsa_own_rating_and_scorer(tmp_path: Path) -> None:
    src = VULNDATA / "samples/ghsa-npm/2020/07/GHSA-p6mc-m468-83gw/GHSA-p6mc-m468-83gw.json"
    doc = json.loads(src.read_text())
    advs, faults = _parse(OsvUpdater("ghsa-npm", "", tmp_path, "GHSA-", cvss_source="GITHUB"),
                          {"g.json": doc}, tmp_path / "r")  # fmt: skip
    (adv,) = advs
    assert faults == []
    assert adv.distro_severity is not None
    assert adv.distro_severity.raw == doc["database_specific"]["severity"]
    assert {c.source for c in adv.severities} == {"GITHUB"}
