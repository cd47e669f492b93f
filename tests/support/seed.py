"""The ECR walkthrough's seed: a GHSA Maven + CISA KEV mirror and the log4j 2.14.1 image."""

from __future__ import annotations

import lzma
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from tests.support import oci_build as ob
from tests.support.lang_binaries import maven_jar
from tests.support.paths import VULNDATA


def seed_mirror(dest: Path, dropped: str | None = None) -> Path:
    """A mirror holding GHSA Maven (optionally minus one advisory) and CISA KEV."""
    (dest / "ghsa").mkdir(parents=True)
    (dest / "cisa-kev").mkdir()
    os.symlink(VULNDATA / "cisa-kev" / "cisa-kev.tar.xz", dest / "cisa-kev" / "cisa-kev.tar.xz")
    source = VULNDATA / "ghsa" / "ghsa-maven.tar.xz"
    if dropped is None:
        os.symlink(source, dest / "ghsa" / "ghsa-maven.tar.xz")
        return dest
    with (
        tarfile.open(source, "r:xz") as src,
        lzma.open(dest / "ghsa" / "ghsa-maven.tar.xz", "wb", preset=0) as raw,
        tarfile.open(fileobj=raw, mode="w") as out,
    ):
        for member in src:
            if dropped in member.name:
                continue
            out.addfile(member, src.extractfile(member) if member.isfile() else None)
    return dest


def log4j_image(layout: Path) -> None:
    """An OCI layout, tag v1: a Debian 12 os-release layer and log4j-core 2.14.1's jar."""
    jar = maven_jar("org.apache.logging.log4j", "log4j-core", "2.14.1")
    ob.build_oci_layout(
        layout,
        [
            ob.Layer([ob.file("etc/os-release", b'ID=debian\nVERSION_ID="12"\n')]),
            ob.Layer([ob.file("app/lib/log4j-core-2.14.1.jar", jar)]),
        ],
        tag="v1",
    )


def tidegate(data: Path, *args: str) -> str:
    """The real CLI in a subprocess against the data directory `data`."""
    result = subprocess.run(
        [sys.executable, "-m", "tidegate", *args, "--data-dir", str(data)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout
