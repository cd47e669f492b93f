"""Peak RSS while analyzing an image with one 1 GiB layer (target < 200 MB).

The layer (16,384 files of 64 KiB, every 16th executable, plus a dpkg status file, gzip)
is built once under .cache/; the analysis runs in a fresh child process whose ru_maxrss is reported.

    PYTHONPATH=. .venv/bin/python bench/analyze_memory.py
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

from analyze_common import CACHE

from tests.support import oci_build as ob

FILES, FILE_SIZE = 16_384, 64 << 10
STATUS = b"Package: big\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n"


class _ChunkSource:
    """File-like content of one member: distinct, moderately compressible bytes."""

    def __init__(self, seed: int) -> None:
        self.data = (seed.to_bytes(4, "big") + os.urandom(60)) * (FILE_SIZE // 64)

    def read(self, n: int = -1) -> bytes:
        out, self.data = (self.data, b"") if n < 0 else (self.data[:n], self.data[n:])
        return out


def build() -> Path:
    layout = CACHE / "bench-1gib-layout"
    if (layout / "index.json").exists():
        return layout
    tmp = CACHE / "bench-1gib.tar.gz"
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    with tmp.open("wb") as raw:

        class _Gz:
            def write(self, b: bytes) -> int:
                raw.write(comp.compress(b))
                return len(b)

        with tarfile.open(fileobj=_Gz(), mode="w|") as tar:  # type: ignore[call-overload]
            info = tarfile.TarInfo("var/lib/dpkg/status")
            info.size = len(STATUS)
            tar.addfile(info, io.BytesIO(STATUS))
            for i in range(FILES):
                info = tarfile.TarInfo(f"data/{i // 256:03d}/{i:05d}.bin")
                info.size = FILE_SIZE
                # Every 16th file is executable, so binary analyzers spool 64 MiB of them.
                info.mode = 0o755 if i % 16 == 0 else 0o644
                tar.addfile(info, _ChunkSource(i))  # type: ignore[arg-type]
        raw.write(comp.flush())
    ob.build_oci_layout(layout, [ob.RawLayer(tmp.read_bytes())])
    tmp.unlink()
    return layout


CHILD = """
import resource, sys, time
from pathlib import Path
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.sources.layout import OCILayoutSource
start = time.perf_counter()
[img] = analyze_image(OCILayoutSource(Path(sys.argv[1])))
took = time.perf_counter() - start
print(len(img.inventory.packages), took, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    layout = build()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(layout)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    ).stdout.split()
    packages, took, rss_kib = int(out[0]), float(out[1]), int(out[2])
    print(f"1 GiB layer: {packages} package(s) in {took:.1f} s")
    print(f"peak RSS: {rss_kib / 1024:.0f} MiB (target < 200 MB)")


if __name__ == "__main__":
    main()
