"""Files of the vulnerability DB directory, and how a new version is published.

<vulndb_dir>/
  CURRENT             "7\\n": the published version (replaced by atomic rename)
  v000006.sqlite      older versions, kept for change sets (the newest few)
  v000007.sqlite      the current version; never modified after publication
  build-<pid>.sqlite  a version being built; never read, removed by the next update
  update.lock         flock()ed by the running update (released by the kernel on kill -9)
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from tidegate.errors import ErrorCode, TidegateError

POINTER = "CURRENT"
LOCK = "update.lock"


class UpdateInProgress(TidegateError):
    """Another `db update` holds the lock on this DB directory; try again later."""

    code = ErrorCode.UPDATE_IN_PROGRESS


def version_path(root: Path, version: int) -> Path:
    """The file of one DB version."""
    return root / f"v{version:06d}.sqlite"


def current_version(root: Path) -> int | None:
    """The published version, from the small pointer file (cheap enough to poll)."""
    try:
        text = (root / POINTER).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def existing_versions(root: Path) -> list[int]:
    """Versions whose files exist, oldest first."""
    out = []
    for p in root.glob("v*.sqlite"):
        digits = p.stem[1:]
        if digits.isdigit():
            out.append(int(digits))
    return sorted(out)


def fsync_path(path: Path) -> None:
    """Flush a file's data, or make a rename in a directory, durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(root: Path, built: Path, version: int) -> Path:
    """Move a finished build into place and point CURRENT at it, crash-safely.

    Order: fsync the build, rename it to its version name, fsync the directory, then write
    the pointer to a temp file, fsync, rename over CURRENT, fsync the directory. A crash at
    any point leaves CURRENT naming a complete file.
    """
    final = version_path(root, version)
    fsync_path(built)
    built.replace(final)
    fsync_path(root)
    tmp = root / f".{POINTER}.{os.getpid()}"
    with tmp.open("w", encoding="ascii") as fh:
        fh.write(f"{version}\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(root / POINTER)
    fsync_path(root)
    return final


def prune(root: Path, keep: int) -> None:
    """Delete all but the newest `keep` version files (open readers keep their inode)."""
    current = current_version(root)
    for version in existing_versions(root)[:-keep]:
        if version != current:
            version_path(root, version).unlink(missing_ok=True)


def acquire_lock(root: Path) -> IO[bytes]:
    """Take the update lock or raise UpdateInProgress; close the handle to release it."""
    root.mkdir(parents=True, exist_ok=True)
    fh = (root / LOCK).open("ab")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        fh.close()
        msg = f"another vulnerability DB update is running in {root}"
        raise UpdateInProgress(msg) from exc
    return fh


def remove_stale_builds(root: Path) -> None:
    """Delete leftovers of interrupted builds; only call while holding the lock."""
    for p in root.glob("build-*.sqlite*"):
        p.unlink(missing_ok=True)
    for p in root.glob(f".{POINTER}.*"):
        p.unlink(missing_ok=True)
