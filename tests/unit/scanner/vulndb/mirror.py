"""A small mirror laid out like /work/shared/vulndata, built from its real records.

Each archive gets the records in `samples/` (the famous CVEs) plus the first records of the
real archive, re-packed as tar.xz under the same top-level directory; Alpine gets two real
branch directories. Built once under /work/main/.cache and reused by every test session.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

from tests.support.paths import VULNDATA

CACHE = Path(__file__).resolve().parents[4] / ".cache" / "vulndb-tests"
MINI_VERSION = "mini-v1"

# mirror archive -> (top directory inside it, samples/ directory)
ARCHIVES = {
    "debian-osv/debian-osv.tar.xz": ("debian-osv", "debian-osv"),
    "almalinux-osv/almalinux-osv.tar.xz": ("almalinux-osv", "almalinux-osv"),
    "pypa-osv/pypa-advisory-database.tar.xz": ("pypa-advisory-database", "pypa-osv"),
    "go-vulndb-osv/go-vulndb-osv.tar.xz": ("go-vulndb-osv", "go-vulndb-osv"),
    "rustsec-osv/rustsec-osv.tar.xz": ("rustsec-osv", "rustsec-osv"),
    "ghsa/ghsa-maven.tar.xz": ("ghsa-maven", "ghsa-maven"),
    "ghsa/ghsa-npm.tar.xz": ("ghsa-npm", "ghsa-npm"),
    "ghsa/ghsa-pip.tar.xz": ("ghsa-pip", "ghsa-pip"),
    "ghsa/ghsa-nuget.tar.xz": ("ghsa-nuget", None),
    "ghsa/ghsa-rubygems.tar.xz": ("ghsa-rubygems", None),
    "ubuntu-cve-tracker/ubuntu-cve-tracker.tar.xz": ("ubuntu-cve-tracker", "ubuntu-cve-tracker"),
    "amazon-linux-alas/amazon-linux-alas.tar.xz": ("amazon-linux-alas", "amazon-linux-alas"),
    "cisa-kev/cisa-kev.tar.xz": ("cisa-kev", "cisa-kev"),
}
ALPINE_BRANCHES = ("3.19", "3.20")


def _first_records(archive: Path, limit: int) -> list[tuple[str, bytes]]:
    out = []
    with tarfile.open(archive, "r:xz") as tar:
        for info in tar:
            if info.isfile() and info.name.endswith((".json", ".yaml")):
                fh = tar.extractfile(info)
                assert fh is not None
                out.append((info.name, fh.read()))
                if len(out) >= limit:
                    break
    return out


def write_tar_xz(dest: Path, files: list[tuple[str, bytes]]) -> None:
    """A tar.xz with these (path, bytes) members, in order."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:xz") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))


def collect(rel: str, limit: int) -> list[tuple[str, bytes]]:
    """The records the mini mirror holds for one archive."""
    top, samples = ARCHIVES[rel]
    files = dict(_first_records(VULNDATA / rel, limit))
    if samples is not None:
        root = VULNDATA / "samples" / samples
        for path in sorted(root.rglob("*")):
            if path.is_file():
                files[f"{top}/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    return sorted(files.items())


def build_mini_mirror(limit: int = 150) -> Path:
    """The cached mini mirror's root (built on first use, atomically)."""
    root = CACHE / MINI_VERSION
    if root.exists():
        return root
    tmp = CACHE / f".{MINI_VERSION}.{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    for rel in ARCHIVES:
        write_tar_xz(tmp / rel, collect(rel, limit))
    for branch in ALPINE_BRANCHES:
        shutil.copytree(VULNDATA / "alpine-secdb" / branch, tmp / "alpine-secdb" / branch)
    for path in tmp.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    try:
        tmp.rename(root)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another session won the race
    return root


def copy_mirror(src: Path, dest: Path) -> Path:
    """A writable copy of a mirror for tests that change it."""
    shutil.copytree(src, dest)
    return dest
