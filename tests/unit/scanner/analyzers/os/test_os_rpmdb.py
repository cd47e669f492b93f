"""rpm databases made by the real rpm tool, read back without it; `rpm -qa` is the truth."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.support import oci_build as ob
from tests.support import rpm_db
from tidegate.scanner.analyzers.base import AnalyzerError
from tidegate.scanner.analyzers.os.rpm import RpmAnalyzer
from tidegate.scanner.analyzers.os.rpmdb import bdb_blobs, ndb_blobs
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.sources.layout import OCILayoutSource

RHEL = 'ID="rhel"\nVERSION_ID="9.3"\nPRETTY_NAME="Red Hat Enterprise Linux 9.3"\n'


def _scan(tmp_path: Path, members: list[ob.Member]) -> set[str]:
    ob.build_oci_layout(tmp_path / "img", [ob.Layer([ob.file("etc/os-release", RHEL), *members])])
    [img] = analyze_image(OCILayoutSource(tmp_path / "img"), analyzers=[RpmAnalyzer()])
    assert img.inventory.warnings == ()
    return {f"{p.name}|{p.version}|{p.arch}" for p in img.inventory.packages}


def test_sqlite_rpmdb_matches_rpm_qa(tmp_path: Path) -> None:
    db = rpm_db.sqlite_db()
    member = ob.file("var/lib/rpm/rpmdb.sqlite", (db / "rpmdb.sqlite").read_bytes())
    assert _scan(tmp_path, [member]) == rpm_db.rpm_qa(db)


def test_sqlite_rpmdb_in_sysimage_location(tmp_path: Path) -> None:
    db = rpm_db.sqlite_db()
    member = ob.file("usr/lib/sysimage/rpm/rpmdb.sqlite", (db / "rpmdb.sqlite").read_bytes())
    assert _scan(tmp_path, [member]) == rpm_db.rpm_qa(db)


def test_berkeleydb_packages_matches_rpm_qa_bdb_ro(tmp_path: Path) -> None:
    db = rpm_db.bdb_db()
    truth = rpm_db.rpm_qa(db, "bdb_ro")
    assert len(truth) == len(rpm_db.PACKAGES)
    member = ob.file("var/lib/rpm/Packages", (db / "Packages").read_bytes())
    assert _scan(tmp_path, [member]) == truth


def test_purl_and_source_rpm(tmp_path: Path) -> None:
    db = rpm_db.sqlite_db()
    member = ob.file("var/lib/rpm/rpmdb.sqlite", (db / "rpmdb.sqlite").read_bytes())
    ob.build_oci_layout(tmp_path / "img", [ob.Layer([ob.file("etc/os-release", RHEL), member])])
    [img] = analyze_image(OCILayoutSource(tmp_path / "img"), analyzers=[RpmAnalyzer()])
    alpha = next(p for p in img.inventory.packages if p.name == "tg-alpha")
    assert alpha.purl == "pkg:rpm/redhat/tg-alpha@1.2.3-4.el9?arch=noarch&distro=rhel-9.3&epoch=2"
    assert (alpha.source_name, alpha.source_version) == ("tg-alpha", "1.2.3-4.el9")
    assert alpha.ecosystem == "Red Hat"


def _ndb(blobs: list[bytes]) -> bytes:
    """An ndb Packages.db laid out as rpm's lib/backend/ndb/rpmpkg.c documents it.

    Debian's rpm is built without ndb, so this is the only way to get one here; the reader is
    therefore only checked against this layout, not against rpm itself.
    """
    slot_pages = 1
    header = struct.pack("<4sIII16x", b"RpmP", 0, 1, slot_pages)
    slots = b""
    data = b""
    blk = slot_pages * 4096 // 16
    for idx, blob in enumerate(blobs, start=1):
        body = struct.pack("<4sIII", b"BlbS", idx, 0, len(blob)) + blob
        body += b"\0" * (-len(body) % 16)
        slots += struct.pack("<4sIII", b"Slot", idx, blk, len(body) // 16)
        blk += len(body) // 16
        data += body
    slots += struct.pack("<4sIII", b"Slot", 0, 0, 0) * ((4096 - 32 - len(slots)) // 16)
    return header + slots + data


def test_ndb_layout_reads_back() -> None:
    import sqlite3

    con = sqlite3.connect(rpm_db.sqlite_db() / "rpmdb.sqlite")
    blobs = [bytes(b) for (b,) in con.execute("SELECT blob FROM Packages ORDER BY hnum")]
    con.close()
    assert list(ndb_blobs(_ndb(blobs))) == blobs


@pytest.mark.parametrize(
    "data",
    [b"", b"RpmP" + b"\xff" * 100, b"garbage" * 100, b"\0" * 4096],
)
def test_garbage_databases_raise_analyzer_error(data: bytes) -> None:
    with pytest.raises(AnalyzerError):
        list(ndb_blobs(data))
    with pytest.raises(AnalyzerError):
        list(bdb_blobs(data))


def test_garbage_rpmdb_becomes_a_warning(tmp_path: Path) -> None:
    member = ob.file("var/lib/rpm/rpmdb.sqlite", b"this is not sqlite" * 100)
    ob.build_oci_layout(tmp_path / "img", [ob.Layer([member])])
    [img] = analyze_image(OCILayoutSource(tmp_path / "img"), analyzers=[RpmAnalyzer()])
    assert img.inventory.packages == ()
    [warning] = img.inventory.warnings
    assert warning.analyzer == "os/rpm"
    assert "sqlite" in warning.reason
