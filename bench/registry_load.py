"""Tidegate against the CNCF Distribution registry (Debian's `docker-registry`) under the
load a cluster rollout makes: wrk on manifests and blobs, and concurrent skopeo pushes.

    .venv/bin/python bench/registry_load.py [--rounds 3] [--duration 10] [--workers N]
        [-- serve args]

Both registries get the same content (skopeo pushes the same image to each). Tidegate runs
with authentication as a client uses it: `skopeo login` with the GetAuthorizationToken
password, and wrk sending the Basic header docker sends after that login. Distribution runs
without authentication (the cheaper side: its htpasswd check is bcrypt per request). Rounds
alternate which registry goes first; each load prints both sides' req/s, p99 and MB/s per
round, then the medians and the ratios Tidegate/Distribution:

- GET and HEAD of a manifest by tag, 32 connections;
- GET of a ~6 MiB layer blob, 8 connections;
- 8 concurrent skopeo pushes of 8 different images (aggregate MB/s), each round into freshly
  started registries, so every blob is really uploaded.

Tidegate runs `serve --workers N` (default: one per core) on SQLite, or with `--postgres`
on a fresh PostgreSQL database.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.push_pull import Distribution, build_image  # noqa: E402

from tests.support.postgres import fresh_database  # noqa: E402
from tests.support.server import TidegateServer  # noqa: E402

MANIFEST_ACCEPT = "application/vnd.oci.image.manifest.v1+json"
WRK_THREADS = 2


@dataclass
class Side:
    """One running registry: where it is and the headers a client sends it."""

    name: str
    host: str
    headers: list[str]
    authfile: Path | None
    stop: Callable[[], object]


@dataclass(frozen=True)
class Figures:
    rps: float
    p99_ms: float
    mbps: float


def start_tidegate(
    work: Path, serve_args: list[str], database_url: str = ""
) -> tuple[TidegateServer, Side]:
    env = {"TIDEGATE_ACCESS_LOG": "false"}
    if database_url:
        env["TIDEGATE_DATABASE_URL"] = database_url
    server = TidegateServer(work / "data", env=env, args=serve_args)
    server.start()
    data = server.ecr().get_authorization_token()["authorizationData"][0]
    token = data["authorizationToken"]
    _, password = base64.b64decode(token).decode().split(":", 1)
    authfile = work / "auth.json"
    subprocess.run(
        ["skopeo", "login", "--tls-verify=false", "--authfile", str(authfile),
         "--username", "AWS", "--password-stdin", server.host],
        input=password.encode(), check=True, capture_output=True,
    )  # fmt: skip
    side = Side("tidegate", server.host, [f"Authorization: Basic {token}"], authfile, server.stop)
    return server, side


def start_distribution(work: Path) -> Side:
    peer = Distribution(work)
    return Side("distribution", peer.host, [], None, peer.stop)


def skopeo_copy(side: Side, layout: Path, repo: str) -> None:
    auth = ["--authfile", str(side.authfile)] if side.authfile else []
    subprocess.run(
        ["skopeo", "copy", "--dest-tls-verify=false", *auth,
         f"oci:{layout}:bench", f"docker://{side.host}/{repo}:v1"],
        check=True, capture_output=True,
    )  # fmt: skip


def blob_of(layout: Path, min_bytes: int) -> tuple[str, int]:
    """The digest and size of the first blob in the layout at least `min_bytes` long."""
    for path in sorted((layout / "blobs" / "sha256").iterdir()):
        size = path.stat().st_size
        if size >= min_bytes:
            return f"sha256:{path.name}", size
    raise RuntimeError("no layer blob in the layout")


_SIZE_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(text)
    return float(match.group(1)) * _SIZE_UNITS[match.group(2)]


def wrk(url: str, headers: list[str], connections: int, seconds: int, size: int) -> Figures:
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} failed responses\n{out}")
    return Figures(rps, p99, rps * size / 1e6)


def ab_head(url: str, headers: list[str], connections: int, seconds: int) -> Figures:
    """HEAD load with ApacheBench: wrk waits for the body a HEAD's Content-Length announces."""
    cmd = ["ab", "-q", "-k", "-i", f"-c{connections}", f"-t{seconds}", "-n100000000"]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = float(re.search(r"^\s+99%\s+(\d+)", out, re.M).group(1))  # type: ignore[union-attr]
    failed = re.search(r"(Failed requests|Non-2xx responses):\s+([1-9]\d*)", out)
    if failed:
        raise RuntimeError(f"{url}: {failed.group(0)}\n{out}")
    return Figures(rps, p99, 0.0)


def concurrent_pushes(side: Side, layouts: list[Path], total_bytes: int) -> Figures:
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(layouts)) as pool:
        futures = [
            pool.submit(skopeo_copy, side, lay, f"push/img{i}") for i, lay in enumerate(layouts)
        ]
        for future in futures:
            future.result()
    elapsed = time.perf_counter() - started
    return Figures(len(layouts) / elapsed, elapsed * 1e3, total_bytes / 1e6 / elapsed)


def report(load: str, results: dict[str, list[Figures]], unit: str) -> None:
    ours = results["tidegate"]
    peer = results["distribution"]

    def med(rows: list[Figures], attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in rows)

    if unit == "rps":
        t, d = med(ours, "rps"), med(peer, "rps")
        tp, dp = med(ours, "p99_ms"), med(peer, "p99_ms")
        print(
            f"{load}: tidegate {t:,.0f} req/s p99 {tp:.1f} ms | distribution {d:,.0f} req/s "
            f"p99 {dp:.1f} ms | ratio {t / d:.2f}x req/s, p99 {tp / dp:.2f}x"
        )
    else:
        t, d = med(ours, "mbps"), med(peer, "mbps")
        print(f"{load}: tidegate {t:,.1f} MB/s | distribution {d:,.1f} MB/s | ratio {t / d:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--push-images", type=int, default=8)
    parser.add_argument("--push-layer-mib", type=int, default=8, help="two layers per image")
    parser.add_argument(
        "--only", choices=["manifest", "blob", "push"], action="append", help="loads to run"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="`tidegate serve --workers`"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="Tidegate's metadata in a fresh PostgreSQL database (127.0.0.1:5432) per start",
    )
    parser.add_argument("serve_args", nargs="*", help="extra `tidegate serve` arguments")
    args = parser.parse_args()
    args.serve_args = ["--workers", str(args.workers), *args.serve_args]
    loads = args.only or ["manifest", "blob", "push"]
    with tempfile.TemporaryDirectory(prefix="tidegate-load-") as tmp, ExitStack() as dbs:
        root = Path(tmp)

        def database() -> str:
            return dbs.enter_context(fresh_database()) if args.postgres else ""

        layout = root / "layout"
        build_image(layout, 1, 6)
        digest, blob_size = blob_of(layout, 1 << 20)
        manifest_size = json.loads((layout / "index.json").read_text())["manifests"][0]["size"]
        results: dict[str, dict[str, list[Figures]]] = {
            load: {"tidegate": [], "distribution": []}
            for load in ("GET manifest", "HEAD manifest", "GET blob", "push")
        }
        if "manifest" in loads or "blob" in loads:
            server, tide = start_tidegate(root / "tidegate", args.serve_args, database())
            dist = start_distribution(root / "distribution")
            try:
                for side in (tide, dist):
                    skopeo_copy(side, layout, "bench/image")
                for rnd in range(args.rounds):
                    order = (tide, dist) if rnd % 2 == 0 else (dist, tide)
                    for side in order:
                        base = f"http://{side.host}/v2/bench/image"
                        runs: list[tuple[str, str, list[str], int, int]] = []
                        if "manifest" in loads:
                            accept = [f"Accept: {MANIFEST_ACCEPT}"]
                            runs.append(("GET manifest", f"{base}/manifests/v1", accept, 32,
                                         manifest_size))  # fmt: skip
                            runs.append(("HEAD manifest", f"{base}/manifests/v1", accept, 32,
                                         0))  # fmt: skip
                        if "blob" in loads:
                            runs.append(("GET blob", f"{base}/blobs/{digest}", [], 8,
                                         blob_size))  # fmt: skip
                        for load, url, extra, conns, size in runs:
                            hdrs = side.headers + extra
                            if load.startswith("HEAD"):
                                fig = ab_head(url, hdrs, conns, args.duration)
                            else:
                                fig = wrk(url, hdrs, conns, args.duration, size)
                            results[load][side.name].append(fig)
                            print(
                                f"  round {rnd} {side.name:12s} {load:13s} {fig.rps:9,.0f} req/s"
                                f"  p99 {fig.p99_ms:7.1f} ms  {fig.mbps:8,.1f} MB/s",
                                flush=True,
                            )
            finally:
                server.stop()
                dist.stop()
        if "push" in loads:
            layouts = []
            total = 0
            for i in range(args.push_images):
                lay = root / f"push{i}"
                total += build_image(lay, 2, args.push_layer_mib)
                layouts.append(lay)
            for rnd in range(args.rounds):
                order = (
                    ("tidegate", "distribution") if rnd % 2 == 0 else ("distribution", "tidegate")
                )
                for kind in order:
                    work = root / f"push-{kind}-{rnd}"
                    work.mkdir()
                    if kind == "tidegate":
                        server, side = start_tidegate(work, args.serve_args, database())
                        stop = side.stop
                    else:
                        side = start_distribution(work)
                        stop = side.stop
                    try:
                        fig = concurrent_pushes(side, layouts, total)
                    finally:
                        stop()
                    shutil.rmtree(work)
                    results["push"][kind].append(fig)
                    print(
                        f"  round {rnd} {kind:12s} {len(layouts)} pushes of {total / 1e6:.0f} MB"
                        f" in {fig.p99_ms / 1e3:.2f} s  {fig.mbps:8,.1f} MB/s",
                        flush=True,
                    )
        print(f"medians of {args.rounds} rounds ({args.duration} s each for wrk):")
        for load, unit in (
            ("GET manifest", "rps"),
            ("HEAD manifest", "rps"),
            ("GET blob", "mbps"),
            ("push", "mbps"),
        ):
            if results[load]["tidegate"]:
                report(load, results[load], unit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
