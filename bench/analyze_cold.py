"""Cold analysis of the Debian image vs. decompressing its layers once (target <= 1.5x).

PYTHONPATH=. .venv/bin/python bench/analyze_cold.py [--os-only]
"""

from __future__ import annotations

import statistics
import sys
import time

from analyze_common import CACHE, debian_source, decompress_only, fresh_dir

from tidegate.scanner.inventory import analyze_image, default_analyzers


def main() -> None:
    # --os-only leaves out the language analyzers (whose executables scan dominates).
    analyzers = default_analyzers()
    if "--os-only" in sys.argv:
        analyzers = [a for a in analyzers if a.name.startswith("os/")]
    print("analyzers:", ", ".join(a.name for a in analyzers))
    source = debian_source()
    decompress_only(source)  # warm the page cache for both sides alike
    base, produced = min(decompress_only(source) for _ in range(3))
    runs = []
    for _ in range(3):
        cache = fresh_dir(CACHE / "bench-cold-cache")
        start = time.perf_counter()
        [img] = analyze_image(source, cache_dir=cache, analyzers=analyzers)
        runs.append(time.perf_counter() - start)
    cold = min(runs)
    print(
        f"layers: {produced / 2**20:.0f} MiB uncompressed, {len(img.inventory.packages)} packages"
    )
    print(f"decompress only: {base:.3f} s")
    print(f"cold analysis:   {cold:.3f} s (median {statistics.median(runs):.3f} s)")
    print(f"ratio: {cold / base:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
