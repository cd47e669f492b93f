"""Moving a built DB to an air-gapped host: a tar of the version file plus a manifest.

`import_db` checks the manifest digest, SQLite integrity and schema before publishing the
file as the next local version; its change set is recomputed against the local current
version, since the exporter's predecessor means nothing here.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
from dataclasses import dataclass
from pathlib import Path

from tidegate.errors import InvalidParameter
from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.diff import record_changes
from tidegate.scanner.vulndb.manager import SCHEMA_VERSION
from tidegate.scanner.vulndb.store import NoDatabase

DB_MEMBER = "vulndb.sqlite"
MANIFEST = "manifest.json"
_CHUNK = 1 << 20


class InvalidExport(InvalidParameter):
    """The file is not a Tidegate DB export, or it fails verification; nothing is changed."""


@dataclass(frozen=True, slots=True)
class Imported:
    """Result of an import: the new local version and how many keys it changed."""

    version: int
    source_version: int
    changed_keys: int


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def export_db(vulndb_dir: Path, dest: Path) -> dict[str, object]:
    """Write the current version to `dest` (.tar, .tar.gz or .tar.xz by suffix)."""
    version = layout.current_version(vulndb_dir)
    if version is None:
        msg = f"no vulnerability DB in {vulndb_dir}"
        raise NoDatabase(msg)
    path = layout.version_path(vulndb_dir, version)
    manifest = {
        "format": "tidegate-vulndb",
        "schema": SCHEMA_VERSION,
        "version": version,
        "size": path.stat().st_size,
        "sha256": _sha256(path),
    }
    mode = "w:gz" if dest.name.endswith(".gz") else "w:xz" if dest.name.endswith(".xz") else "w"
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with tarfile.open(tmp, mode) as tar:  # type: ignore[call-overload]
        data = json.dumps(manifest, indent=2).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        tar.add(path, arcname=DB_MEMBER)
    tmp.replace(dest)
    return manifest


def import_db(vulndb_dir: Path, src: Path) -> Imported:
    """Verify an export and publish it as the next local version."""
    lock = layout.acquire_lock(vulndb_dir)
    try:
        layout.remove_stale_builds(vulndb_dir)
        build = vulndb_dir / f"build-{os.getpid()}.sqlite"
        try:
            manifest = _unpack(src, build)
            current = layout.current_version(vulndb_dir)
            version = max([current or 0, *layout.existing_versions(vulndb_dir)]) + 1
            changed = _rebase(build, vulndb_dir, current, version)
        except BaseException:
            build.unlink(missing_ok=True)
            raise
        layout.publish(vulndb_dir, build, version)
        return Imported(version, int(str(manifest["version"])), changed)
    finally:
        lock.close()


def _unpack(src: Path, build: Path) -> dict[str, object]:
    try:
        with tarfile.open(src, "r:*") as tar:
            manifest = json.loads(_member(tar, MANIFEST).read())
            if manifest.get("format") != "tidegate-vulndb":
                msg = f"{src} is not a Tidegate vulnerability DB export"
                raise InvalidExport(msg)
            if str(manifest.get("schema")) != SCHEMA_VERSION:
                found = manifest.get("schema")
                msg = f"{src}: DB schema {found}, this Tidegate reads {SCHEMA_VERSION}"
                raise InvalidExport(msg)
            digest = hashlib.sha256()
            with _member(tar, DB_MEMBER) as fh, build.open("wb") as out:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        msg = f"cannot read export {src}: {exc}"
        raise InvalidExport(msg) from exc
    if digest.hexdigest() != manifest.get("sha256"):
        msg = f"{src}: checksum mismatch, the export is corrupt"
        raise InvalidExport(msg)
    return dict(manifest)


def _member(tar: tarfile.TarFile, name: str) -> io.BufferedReader:
    fh = tar.extractfile(name)
    if fh is None:
        msg = f"export lacks {name}"
        raise InvalidExport(msg)
    return fh  # type: ignore[return-value]


def _rebase(build: Path, vulndb_dir: Path, current: int | None, version: int) -> int:
    conn = sqlite3.connect(f"file:{build}", uri=True, isolation_level=None)
    try:
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            msg = "the exported DB fails SQLite's integrity check"
            raise InvalidExport(msg)
        conn.execute("BEGIN")
        conn.execute("DELETE FROM changes")
        prev = layout.version_path(vulndb_dir, current) if current else None
        if prev is not None:
            conn.execute("ATTACH DATABASE ? AS prev", (f"file:{prev}?mode=ro",))
        changed = record_changes(conn, has_previous=prev is not None)
        conn.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [("version", str(version)), ("previous", str(current or ""))],
        )
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        msg = f"the exported DB is not a valid Tidegate DB: {exc}"
        raise InvalidExport(msg) from exc
    finally:
        conn.close()
    return changed
