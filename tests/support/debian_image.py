"""A real Debian image for ground-truth tests, built once and cached under .cache/.

Fixture-build step (the only network use in the test suite, as allowed): `debootstrap
--variant=minbase bookworm` from deb.debian.org, then `apt-get install hello` in a chroot
for a second layer, then `dpkg --purge hello` for a third layer that deletes a package.
Each stage's layer is the filesystem diff against the previous stage (changed files plus
whiteouts for removed ones). Ground truth is `dpkg-query -W --admindir` on each stage.
Delete .cache/tidegate-fixtures/debian-* to rebuild.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support import oci_build as ob

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "tidegate-fixtures"
MIRROR = "http://deb.debian.org/debian"


def _run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def base_rootfs() -> Path:
    root = CACHE / "bookworm-minbase"
    if not root.exists():
        tmp = CACHE / "bookworm-minbase.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        _run("debootstrap", "--variant=minbase", "bookworm", str(tmp), MIRROR)
        tmp.rename(root)
    return root


def dpkg_truth(root: Path) -> set[tuple[str, str, str]]:
    """(name, version, arch) of installed packages per dpkg-query itself."""
    return {row[:3] for row in dpkg_truth_with_source(root)}


def dpkg_truth_with_source(root: Path) -> set[tuple[str, str, str, str, str]]:
    """(name, version, arch, source name, source version) per dpkg-query."""
    out = _run(
        "dpkg-query",
        "-W",
        f"--admindir={root / 'var/lib/dpkg'}",
        "-f=${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}"
        "\t${db:Status-Status}\n",
    )
    rows = (line.split("\t") for line in out.splitlines())
    return {(n, v, a, sn, sv) for n, v, a, sn, sv, s in rows if s == "installed"}


def _stat_key(p: Path) -> tuple[int, int, int, str]:
    st = p.lstat()
    target = os.readlink(p) if p.is_symlink() else ""
    return (st.st_mode, st.st_size, st.st_mtime_ns, target)


def diff_layer(old: Path, new: Path, dest: Path) -> list[ob.Member]:
    """Members turning `old` into `new`: changed entries copied into `dest`, plus whiteouts."""
    members: list[ob.Member] = []
    for dirpath, dirnames, filenames in os.walk(new):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(new)
        for name in sorted(dirnames + filenames):
            rel = rel_dir / name
            src, before = new / rel, old / rel
            if (before.exists() or before.is_symlink()) and _stat_key(src) == _stat_key(before):
                continue
            if src.is_symlink():
                members.append(ob.symlink(str(rel), os.readlink(src)))
            elif src.is_dir():
                members.append(ob.directory(str(rel), src.stat().st_mode & 0o7777))
            elif src.is_file():
                members.append(ob.file(str(rel), src.read_bytes(), src.stat().st_mode & 0o7777))
    for dirpath, dirnames, filenames in os.walk(old):
        rel_dir = Path(dirpath).relative_to(old)
        for name in list(dirnames) + filenames:
            rel = rel_dir / name
            if not ((new / rel).exists() or (new / rel).is_symlink()):
                members.append(ob.whiteout(str(rel)))
                if name in dirnames:
                    dirnames.remove(name)
    dest.mkdir(parents=True, exist_ok=True)
    return members


def stages() -> tuple[Path, Path, Path]:
    """Root filesystems: base, base + hello, then hello purged again."""
    base = base_rootfs()
    with_hello = CACHE / "debian-hello"
    purged = CACHE / "debian-purged"
    if not with_hello.exists():
        tmp = CACHE / "debian-hello.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        _run("cp", "-a", str(base), str(tmp))
        _run("chroot", str(tmp), "apt-get", "install", "-y", "--no-install-recommends", "hello")
        _run("chroot", str(tmp), "apt-get", "clean")
        tmp.rename(with_hello)
    if not purged.exists():
        tmp = CACHE / "debian-purged.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        _run("cp", "-a", str(with_hello), str(tmp))
        _run("dpkg", f"--root={tmp}", "--purge", "hello")
        tmp.rename(purged)
    return base, with_hello, purged


def debian_layout() -> tuple[Path, str]:
    """A 3-layer OCI layout (gzip base, zstd hello, uncompressed purge) tagged `three`,
    and its manifest digest."""
    layout = CACHE / "debian-layout"
    marker = layout / "built.json"
    base, with_hello, purged = stages()
    if not marker.exists():
        shutil.rmtree(layout, ignore_errors=True)
        layers = [
            ob.Layer(base, compression="gzip"),
            ob.Layer(diff_layer(base, with_hello, layout), compression="zstd"),
            ob.Layer(diff_layer(with_hello, purged, layout), compression="none"),
        ]
        img = ob.build_oci_layout(layout, layers, tag="three")
        marker.write_text(img.manifest_digest)
    return layout, marker.read_text()


def typeprof_rootfs() -> Path:
    """The minbase rootfs plus Debian's ruby-typeprof (and ruby), built once.

    typeprof and rbs ship their own Gemfile.lock and a VS Code extension's package-lock.json
    inside their gem directories: development files that must not become packages.
    """
    root = CACHE / "debian-typeprof"
    if not root.exists():
        tmp = CACHE / "debian-typeprof.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        _run("cp", "-a", str(base_rootfs()), str(tmp))
        _run("chroot", str(tmp), "apt-get", "update", "-q")
        _run("chroot", str(tmp), "apt-get", "install", "-y", "--no-install-recommends",
             "ruby-typeprof")  # fmt: skip
        _run("chroot", str(tmp), "apt-get", "clean")
        tmp.rename(root)
    return root
