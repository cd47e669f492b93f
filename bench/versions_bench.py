"""Comparisons per second for each version scheme, cold (parsing) and warm (memoised keys).

Run: .venv/bin/python bench/versions_bench.py
Corpus: tests/corpora/versions/realworld/<scheme>.txt, each version compared with every
other one (n^2 comparisons), repeated until about half a second has passed.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from tidegate.scanner.versions import VersionScheme, scheme_for

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpora" / "versions" / "realworld"
SCHEMES = {
    "deb": "Debian",
    "rpm": "Red Hat",
    "apk": "Alpine",
    "pep440": "PyPI",
    "npm": "npm",
    "golang": "Go",
    "maven": "Maven",
    "gem": "RubyGems",
    "nuget": "NuGet",
    "cargo": "crates.io",
}


def _versions(name: str) -> list[str]:
    return [v for v in (CORPUS / f"{name}.txt").read_text().splitlines() if v.strip()]


def _compare_all(scheme: VersionScheme, versions: list[str]) -> int:
    n = 0
    for a in versions:
        ka = scheme.key(a)
        for b in versions:
            kb = scheme.key(b)
            _ = ka < kb
            n += 1
    return n


def _cold_parse_rate(scheme: VersionScheme, versions: list[str]) -> float:
    # Clearing the module's lru_cache on every round makes each key() a real parse.
    key_fn = importlib.import_module(type(scheme).__module__)._key
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.5:
        key_fn.cache_clear()
        for v in versions:
            scheme.key(v)
        done += len(versions)
    return done / (time.perf_counter() - start)


def _warm_compare_rate(scheme: VersionScheme, versions: list[str]) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.5:
        done += _compare_all(scheme, versions)
    return done / (time.perf_counter() - start)


def main() -> None:
    """Print one line per scheme."""
    print(f"{'scheme':8} {'versions':>8} {'parses/s (cold)':>16} {'comparisons/s (warm)':>21}")
    for name, ecosystem in SCHEMES.items():
        scheme = scheme_for(ecosystem)
        versions = _versions(name)
        cold = _cold_parse_rate(scheme, versions)
        warm = _warm_compare_rate(scheme, versions)
        print(f"{name:8} {len(versions):8d} {cold:16,.0f} {warm:21,.0f}")


if __name__ == "__main__":
    main()
