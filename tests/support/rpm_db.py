"""Real rpm databases built with Debian's rpm tools, cached under .cache/.

* sqlite: `rpm --initdb` + `rpm -i --justdb --nodeps` of rpms built by `rpmbuild` from
  trivial specs (Debian's rpm 4.18 writes only sqlite).
* BerkeleyDB: the same header blobs loaded into a hash database with `db5.3_load`; the real
  rpm reads it back through its read-only `bdb_ro` backend, which is the ground truth.
* ndb: Debian's rpm is built without ndb, so no tool here can write one (see the test).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "tidegate-fixtures" / "rpm"
# (name, epoch or None, version, release, arch)
PACKAGES = (
    ("tg-alpha", 2, "1.2.3", "4.el9", "noarch"),
    ("tg-beta", None, "0.9", "1.el9", "noarch"),
    ("tg-gamma", None, "10.0.1", "22.el9_3", "noarch"),
)


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def _spec(name: str, epoch: int | None, version: str, release: str, arch: str) -> str:
    lines = [f"Name: {name}", f"Version: {version}", f"Release: {release}"]
    if epoch is not None:
        lines.append(f"Epoch: {epoch}")
    lines += ["Summary: t", "License: MIT", f"BuildArch: {arch}", "%description", "t", "%files", ""]
    return "\n".join(lines)


def build_rpms() -> list[Path]:
    out = CACHE / "rpms"
    if not out.exists():
        tmp = CACHE / "rpms.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "top").mkdir(parents=True)
        for pkg in PACKAGES:
            spec = tmp / f"{pkg[0]}.spec"
            spec.write_text(_spec(*pkg))
            _run("rpmbuild", "-bb", "--define", f"_topdir {tmp / 'top'}", str(spec))
        (tmp / "out").mkdir()
        for rpm in (tmp / "top" / "RPMS").rglob("*.rpm"):
            shutil.copy(rpm, tmp / "out" / rpm.name)
        shutil.move(str(tmp / "out"), out)
        shutil.rmtree(tmp)
    return sorted(out.glob("*.rpm"))


def sqlite_db() -> Path:
    """Directory holding rpmdb.sqlite with every package of PACKAGES installed."""
    dbdir = CACHE / "sqlite"
    if not dbdir.exists():
        tmp = CACHE / "sqlite.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        _run("rpm", "--initdb", "--dbpath", str(tmp))
        _run("rpm", "-i", "--justdb", "--nodeps", "--dbpath", str(tmp), *map(str, build_rpms()))
        tmp.rename(dbdir)
    return dbdir


def _escape(data: bytes) -> str:
    return "".join(chr(b) if 0x20 < b < 0x7F and b != 0x5C else f"\\{b:02x}" for b in data)


def bdb_db() -> Path:
    """Directory holding a BerkeleyDB hash `Packages` with the same headers."""
    dbdir = CACHE / "bdb"
    if not dbdir.exists():
        tmp = CACHE / "bdb.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        con = sqlite3.connect(sqlite_db() / "rpmdb.sqlite")
        rows = con.execute("SELECT hnum, blob FROM Packages").fetchall()
        con.close()
        lines = []
        for hnum, blob in rows:
            lines += [_escape(int(hnum).to_bytes(4, "little")), _escape(bytes(blob))]
        (tmp / "dump.txt").write_text("\n".join(lines) + "\n")
        _run("db5.3_load", "-T", "-t", "hash", "-f", str(tmp / "dump.txt"), str(tmp / "Packages"))
        (tmp / "dump.txt").unlink()
        tmp.rename(dbdir)
    return dbdir


def rpm_qa(dbpath: Path, backend: str = "sqlite") -> set[str]:
    """`rpm -qa` with a fixed query format, the ground truth."""
    out = _run(
        "rpm",
        "--define",
        f"_db_backend {backend}",
        "-qa",
        "--dbpath",
        str(dbpath),
        "--qf",
        "%{NAME}|%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}|%{ARCH}\n",
    )
    return set(out.split())
