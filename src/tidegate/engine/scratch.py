"""Analysis scratch space under `<data-dir>/scratch/`, one directory per live process.

Each process writes only below its own `<host:pid:start>` directory, so a sweep can tell
what a dead process left (killed mid-scan: spooled layer files, tens of MB) from what a
live one is using, and several processes may share one data directory.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from tidegate.engine import owner

log = logging.getLogger(__name__)


def own_dir(root: Path) -> Path:
    """This process's scratch directory (created)."""
    path = root / str(owner.current())
    path.mkdir(parents=True, exist_ok=True)
    return path


def sweep(root: Path, *, dry_run: bool = False) -> list[Path]:
    """Remove the scratch directories of dead processes of this host; what was removed."""
    if not root.is_dir():
        return []
    removed = []
    for entry in sorted(root.iterdir()):
        who = owner.parse(entry.name)
        if who is not None and not who.is_dead_here():
            continue
        removed.append(entry)
        if dry_run:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if removed and not dry_run:
        log.info("removed stale scratch", extra={"fields": {"entries": len(removed)}})
    return removed


def remove_own(root: Path) -> None:
    """Remove this process's scratch directory (on a clean stop)."""
    shutil.rmtree(root / str(owner.current()), ignore_errors=True)
