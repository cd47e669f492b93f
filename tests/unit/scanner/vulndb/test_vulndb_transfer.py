"""Export and import of a built DB: verified, published atomically, change set rebased."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.manager import update
from tidegate.scanner.vulndb.store import VulnStore
from tidegate.scanner.vulndb.transfer import InvalidExport, export_db, import_db


def test_import_into_a_host_with_an_older_db_rebases_the_change_set(
    built_db: Path, mini_mirror: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "db.tar.xz"
    manifest = export_db(built_db, bundle)
    assert manifest["version"] == 1
    other = tmp_path / "other"
    update(other, mirror=str(mini_mirror), only=["ghsa-npm"])  # an older, smaller DB
    result = import_db(other, bundle)
    assert (result.version, result.source_version) == (2, 1)
    store = VulnStore(other)
    changed = store.changes(1)
    assert ("Maven", "org.apache.logging.log4j:log4j-core") in changed
    assert ("npm", "lodash") not in changed  # identical on both hosts
    assert store.version_info().previous == 1
    assert result.changed_keys == len(changed)


def test_tampered_or_foreign_exports_are_refused(built_db: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "db.tar"
    export_db(built_db, bundle)
    with tarfile.open(bundle) as tar:
        member = tar.getmember("vulndb.sqlite")
    data = bytearray(bundle.read_bytes())
    data[member.offset_data + member.size // 2] ^= 0x01
    bad = tmp_path / "bad.tar"
    bad.write_bytes(bytes(data))
    target = tmp_path / "target"
    with pytest.raises(InvalidExport, match="checksum"):
        import_db(target, bad)
    foreign = tmp_path / "foreign.tar"
    with tarfile.open(foreign, "w") as tar:
        tar.add(Path(__file__), arcname="manifest.json")
    with pytest.raises(InvalidExport):
        import_db(target, foreign)
    assert layout.current_version(target) is None
    assert not list(target.glob("build-*"))
