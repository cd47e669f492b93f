"""Shared helpers for the analyze_* benchmarks (run from the repo root with PYTHONPATH=.)."""

from __future__ import annotations

import shutil
import time
import zlib
from pathlib import Path

import zstandard

from tidegate.scanner.sources.layout import OCILayoutSource

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "tidegate-fixtures"
_CHUNK = 1 << 20


def debian_source() -> OCILayoutSource:
    """The 3-layer debootstrap image the tests use (built and cached on first use)."""
    from tests.support.debian_image import debian_layout

    layout, _ = debian_layout()
    return OCILayoutSource(layout, "three")


def decompress_only(source: OCILayoutSource) -> tuple[float, int]:
    """Seconds to stream and decompress every layer once, and the bytes produced."""
    import json

    manifest = json.loads(source.root())
    start = time.perf_counter()
    total = 0
    for layer in manifest["layers"]:
        with source.open_blob(layer["digest"]) as fh:
            head = fh.read(4)
            fh.seek(0)
            if head.startswith(b"\x1f\x8b"):
                z = zlib.decompressobj(wbits=31)
                while chunk := fh.read(_CHUNK):
                    total += len(z.decompress(chunk))
            elif head.startswith(b"\x28\xb5\x2f\xfd"):
                reader = zstandard.ZstdDecompressor().stream_reader(fh)
                while chunk := reader.read(_CHUNK):
                    total += len(chunk)
            else:
                while chunk := fh.read(_CHUNK):
                    total += len(chunk)
    return time.perf_counter() - start, total


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
