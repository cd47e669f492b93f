"""Warm analysis of the Debian image with every layer cached (target <= 50 ms).

PYTHONPATH=. .venv/bin/python bench/analyze_warm.py
"""

from __future__ import annotations

import statistics
import time

from analyze_common import CACHE, debian_source, fresh_dir

from tidegate.scanner.inventory import analyze_image


def main() -> None:
    source = debian_source()
    cache = fresh_dir(CACHE / "bench-warm-cache")
    analyze_image(source, cache_dir=cache)
    runs = []
    for _ in range(20):
        start = time.perf_counter()
        analyze_image(source, cache_dir=cache)
        runs.append(time.perf_counter() - start)
    print(
        f"warm analysis: median {statistics.median(runs) * 1000:.1f} ms, "
        f"min {min(runs) * 1000:.1f} ms (target <= 50 ms)"
    )


if __name__ == "__main__":
    main()
