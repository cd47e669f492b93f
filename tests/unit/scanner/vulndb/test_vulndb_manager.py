"""`update`: unchanged sources, change sets, failures carried over, lock, kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from tests.unit.scanner.vulndb.mirror import copy_mirror, write_tar_xz
from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.manager import update
from tidegate.scanner.vulndb.model import AffectedPackage
from tidegate.scanner.vulndb.store import ChangesUnavailable, VulnStore

GHSA_MAVEN = "ghsa/ghsa-maven.tar.xz"
LOG4J = ("Maven", "org.apache.logging.log4j:log4j-core")
REPO = Path(__file__).resolve().parents[4]


def _members(path: Path) -> list[tuple[str, bytes]]:
    out = []
    with tarfile.open(path, "r:xz") as tar:
        for info in tar:
            if info.isfile():
                fh = tar.extractfile(info)
                assert fh is not None
                out.append((info.name, fh.read()))
    return out


def _edit_archive(path: Path, edits: dict[str, object | None]) -> None:
    """Rewrite records of a mirror archive: a dict replaces, None deletes, by file name."""
    files = []
    for name, data in _members(path):
        base = name.rsplit("/", 1)[-1]
        if base in edits:
            new = edits[base]
            if new is None:
                continue
            data = json.dumps(new).encode()
        files.append((name, data))
    write_tar_xz(path, files)


def _record(path: Path, base: str) -> dict[str, object]:
    for name, data in _members(path):
        if name.endswith("/" + base):
            loaded: dict[str, object] = json.loads(data)
            return loaded
    raise AssertionError(base)


def test_unchanged_sources_publish_nothing(db_copy: Path, mini_mirror: Path) -> None:
    result = update(db_copy, mirror=str(mini_mirror))
    assert not result.published
    assert result.version == 1
    assert {s.status for s in result.sources} == {"unchanged"}
    assert layout.existing_versions(db_copy) == [1]


def test_change_set_names_exactly_the_changed_keys(
    db_copy: Path, mini_mirror: Path, tmp_path: Path
) -> None:
    mirror = copy_mirror(mini_mirror, tmp_path / "mirror")
    archive = mirror / GHSA_MAVEN
    log4j = _record(archive, "GHSA-jfh8-c2jp-5v3q.json")
    affected = log4j["affected"]
    assert isinstance(affected, list)
    for entry in affected:
        for rng in entry.get("ranges", []):
            for ev in rng["events"]:
                if ev.get("fixed") == "2.15.0":
                    ev["fixed"] = "2.16.0"
    before = VulnStore(db_copy)
    old_keys = {(p.namespace, p.name) for p in affected_of(before, "GHSA-7rjr-3q55-vv33")}
    stale = before.package(*LOG4J)  # cached from version 1, changed by the update
    kept = before.lookup("Debian:12", "libwebp")  # decoded and cached, not changed
    _edit_archive(archive, {"GHSA-jfh8-c2jp-5v3q.json": log4j, "GHSA-7rjr-3q55-vv33.json": None})

    result = update(db_copy, mirror=str(mirror), only=["ghsa-maven"])
    assert result.published
    assert result.version == 2
    status = {s.name: s.status for s in result.sources}
    assert status["ghsa-maven"] == "updated"
    assert status["debian-osv"] == "carried"

    store = VulnStore(db_copy)
    changed = store.changes(1)
    assert LOG4J in changed
    assert old_keys - {LOG4J} <= changed  # keys of the withdrawn GHSA
    assert all(ns == "Maven" for ns, _ in changed)
    assert ("Debian:12", "libwebp") not in changed
    assert store.changes(2) == set()
    assert before.current_version() == 2
    assert before.reopen() is True
    assert before.version == 2
    fixed = next(a for a in before.lookup(*LOG4J) if a.id == "CVE-2021-44228")
    assert "2.16.0" in (fixed.affected[0].fixed_version or "")
    assert before.package(*LOG4J) is not stale
    # Keys the update did not change keep their decoded entries across the switch.
    again = before.lookup("Debian:12", "libwebp")
    assert kept
    assert all(a is b for a, b in zip(again, kept, strict=True))


def affected_of(store: VulnStore, vid: str) -> list[AffectedPackage]:
    adv = store.get(vid)
    assert adv is not None
    return list(adv.affected)


def test_changes_fall_back_to_direct_compare_and_fail_when_gone(
    db_copy: Path, mini_mirror: Path, tmp_path: Path
) -> None:
    mirror = copy_mirror(mini_mirror, tmp_path / "mirror")
    for n in range(3):
        log4j = _record(mirror / GHSA_MAVEN, "GHSA-jfh8-c2jp-5v3q.json")
        log4j["summary"] = f"edit {n}"
        log4j["affected"][0]["versions"] = [f"9.9.{n}"]  # type: ignore[index]
        _edit_archive(mirror / GHSA_MAVEN, {"GHSA-jfh8-c2jp-5v3q.json": log4j})
        assert update(db_copy, mirror=str(mirror), only=["ghsa-maven"]).published
    assert layout.existing_versions(db_copy) == [2, 3, 4]  # v1 pruned
    store = VulnStore(db_copy)
    assert store.changes(2) == {LOG4J}
    layout.version_path(db_copy, 3).unlink()
    assert store.changes(2) == {LOG4J}  # direct comparison with v2's file
    with pytest.raises(ChangesUnavailable):
        store.changes(1)


def test_malformed_records_are_counted_with_reasons(
    db_copy: Path, mini_mirror: Path, tmp_path: Path
) -> None:
    mirror = copy_mirror(mini_mirror, tmp_path / "mirror")
    files = _members(mirror / "rustsec-osv/rustsec-osv.tar.xz")
    files.append(("rustsec-osv/crates/RUSTSEC-9999-0001.json", b"{ truncated"))
    files.append(("rustsec-osv/crates/RUSTSEC-9999-0002.json", b'{"id": 7}'))
    write_tar_xz(mirror / "rustsec-osv/rustsec-osv.tar.xz", files)
    result = update(db_copy, mirror=str(mirror), only=["rustsec"])
    (rust,) = [s for s in result.sources if s.name == "rustsec"]
    assert (rust.status, rust.skipped) == ("updated", 2)
    store = VulnStore(db_copy)
    skips = store.skips("rustsec")
    assert {loc.rsplit("/", 1)[-1] for _, loc, _ in skips} == {
        "RUSTSEC-9999-0001.json",
        "RUSTSEC-9999-0002.json",
    }
    assert any("invalid JSON" in reason for _, _, reason in skips)
    (info,) = [s for s in store.version_info().sources if s.name == "rustsec"]
    assert info.skipped == 2


@pytest.mark.parametrize("damage", ["truncated-xz", "bad-zip"])
def test_corrupt_source_fails_alone_and_keeps_its_data(
    db_copy: Path, mini_mirror: Path, tmp_path: Path, damage: str
) -> None:
    mirror = copy_mirror(mini_mirror, tmp_path / "mirror")
    archive = mirror / GHSA_MAVEN
    data = archive.read_bytes()
    if damage == "truncated-xz":
        archive.write_bytes(data[: len(data) // 2])
    else:
        archive.write_bytes(b"PK\x03\x04" + os.urandom(4000))
    # A second source really changes, so a version is published.
    _edit_archive(mirror / "cisa-kev/cisa-kev.tar.xz", {"CVE-2021-44228.json": None})
    result = update(db_copy, mirror=str(mirror), only=["ghsa-maven", "cisa-kev"])
    status = {s.name: s for s in result.sources}
    assert status["ghsa-maven"].status == "failed"
    assert status["ghsa-maven"].error
    assert status["cisa-kev"].status == "updated"
    assert result.published
    store = VulnStore(db_copy)
    adv = next(a for a in store.lookup(*LOG4J) if a.id == "CVE-2021-44228")
    assert not adv.known_exploited  # the KEV change went through
    assert "ghsa-maven" in adv.sources  # the failed source's previous data carried over
    (info,) = [s for s in store.version_info().sources if s.name == "ghsa-maven"]
    assert (info.status, info.data_version) == ("failed", 1)
    assert info.error


def test_second_update_is_refused_while_one_runs(db_copy: Path, mini_mirror: Path) -> None:
    lock = layout.acquire_lock(db_copy)
    try:
        with pytest.raises(layout.UpdateInProgress):
            update(db_copy, mirror=str(mini_mirror))
    finally:
        lock.close()
    assert not update(db_copy, mirror=str(mini_mirror)).published


def test_kill_9_during_update_leaves_previous_version_usable(
    db_copy: Path, served_mirror: object, tmp_path: Path
) -> None:
    from tests.unit.scanner.vulndb.httpserver import MirrorServer

    assert isinstance(served_mirror, MirrorServer)
    served_mirror.stall.add("ubuntu-cve-tracker/ubuntu-cve-tracker.tar.xz")
    code = (
        "import sys; from pathlib import Path; from tidegate.scanner.vulndb.manager import update;"
        "update(Path(sys.argv[1]), mirror=sys.argv[2])"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db_copy), served_mirror.url],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        # Wait until the update has staged earlier sources and is stuck mid-download.
        while ("/ubuntu-cve-tracker/ubuntu-cve-tracker.tar.xz", 200) not in served_mirror.log:
            assert proc.poll() is None, "update ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert list(db_copy.glob("build-*.sqlite"))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert layout.current_version(db_copy) == 1
    store = VulnStore(db_copy)
    assert any(a.id == "CVE-2021-44228" for a in store.lookup(*LOG4J))
    served_mirror.stall.clear()
    result = update(db_copy, mirror=served_mirror.url)
    assert result.published  # URL fingerprints differ from the directory ones
    assert result.version == 2
    leftovers = sorted(p.name for p in db_copy.glob("build-*"))
    assert not leftovers


def _merged_state(root: Path) -> tuple[set[tuple[object, ...]], ...]:
    version = layout.current_version(root)
    assert version is not None
    conn = sqlite3.connect(layout.version_path(root, version))
    try:
        return tuple(
            set(conn.execute(f"SELECT * FROM {table}"))
            for table in ("packages", "vuln_keys", "aliases")
        )
    finally:
        conn.close()


def test_incremental_merge_equals_a_full_rebuild(
    db_copy: Path, mini_mirror: Path, tmp_path: Path
) -> None:
    mirror = copy_mirror(mini_mirror, tmp_path / "mirror")
    log4j = _record(mirror / GHSA_MAVEN, "GHSA-jfh8-c2jp-5v3q.json")
    log4j["aliases"] = ["CVE-2021-44228", "CVE-2099-0001"]
    _edit_archive(mirror / GHSA_MAVEN, {"GHSA-jfh8-c2jp-5v3q.json": log4j,
                                        "GHSA-7rjr-3q55-vv33.json": None})  # fmt: skip
    # KEV drops Log4Shell: keys of every source that lists it must be re-merged.
    _edit_archive(mirror / "cisa-kev/cisa-kev.tar.xz", {"CVE-2021-44228.json": None})
    result = update(db_copy, mirror=str(mirror), only=["ghsa-maven", "cisa-kev"])
    assert result.published
    fresh = tmp_path / "fresh"
    assert update(fresh, mirror=str(mirror)).published
    assert _merged_state(db_copy) == _merged_state(fresh)
    store = VulnStore(db_copy)
    (deb,) = [a for a in store.lookup("Debian:12", "apache-log4j2") if a.id == "CVE-2021-44228"]
    assert not deb.known_exploited
    changed = store.changes(1)
    assert ("Debian:12", "apache-log4j2") in changed
    assert LOG4J in changed
