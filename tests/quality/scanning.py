"""The scanner side of the gate: the real `tidegate db update` and `tidegate scan` CLIs.

The vulnerability DB is built from the shared mirror with the sources the gate images need
and cached under .cache/quality/vulndb-<key>, where the key hashes the scanner code that can
shape the DB (everything under src/tidegate/scanner but the image reader, analyzers and
renderers, plus tidegate/errors.py) and the mirror files' sizes: a change there rebuilds it
(about two minutes), any other change reuses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.quality.images import CACHE, ROOT, QualityImage
from tests.support.paths import VULNDATA

SOURCES = ("debian-osv", "almalinux-osv", "pypa-osv", "go-vulndb", "ghsa-npm", "ghsa-pip",
           "ghsa-maven", "ghsa-rubygems")  # fmt: skip
_SCANNER = "src/tidegate/scanner"
# these only read images and render reports; the DB build never runs them
_NOT_KEYED = ("analyzers", "image", "sources", "report", "sbom", "inventory.py", "cache.py")


def _env() -> dict[str, str]:
    src = str(ROOT / "src")
    path = os.environ.get("PYTHONPATH", "")
    return dict(os.environ, PYTHONPATH=f"{src}{os.pathsep}{path}" if path else src)


def db_key() -> str:
    digest = hashlib.sha256()
    scanner = ROOT / _SCANNER
    keyed = [p for p in scanner.rglob("*.py") if p.relative_to(scanner).parts[0] not in _NOT_KEYED]
    for path in sorted([*keyed, ROOT / "src/tidegate/errors.py"]):
        digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    for path in sorted(VULNDATA.rglob("*.tar.xz")):
        digest.update(f"{path.relative_to(VULNDATA)}:{path.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def data_dir() -> Path:
    """A data dir whose vulnerability DB was built from the mirror by `tidegate db update`."""
    final = CACHE / f"vulndb-{db_key()}"
    if final.is_dir():
        return final
    tmp = CACHE / f"vulndb-{db_key()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-m", "tidegate", "db", "update", "--source", str(VULNDATA),
         "--only", *SOURCES, "--data-dir", str(tmp)],
        capture_output=True, text=True, timeout=1200, env=_env(),
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"tidegate db update failed: {done.stdout}{done.stderr[-3000:]}")
    for old in CACHE.glob("vulndb-*"):
        if old != tmp:  # older keys' DBs; the one just built is moved into place below
            shutil.rmtree(old, ignore_errors=True)
    os.replace(tmp, final)
    return final


@dataclass(frozen=True, slots=True)
class ScanOutput:
    report: dict[str, Any]
    seconds: float


def scan(image: QualityImage, data: Path) -> ScanOutput:
    """`tidegate scan --format json` of the image's OCI layout, no layer cache."""
    reference = image.reference()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tidegate", "scan", reference, "--format", "json", "--no-cache",
         "--data-dir", str(data)],
        capture_output=True, text=True, timeout=600, env=_env(),
    )  # fmt: skip
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"tidegate scan {reference} failed: {done.stderr[-3000:]}")
    return ScanOutput(json.loads(done.stdout), seconds)
