"""Bounded chaos: concurrent chunked pushes and scans against a real server and two
`tidegate worker` processes, while a chaos thread kill -9s the server or a worker at random
moments and restarts it. Afterwards every acknowledged push reads back byte-identical,
every acknowledged image's scan reaches a final state, no answer was a 500, and no
analysis scratch is left behind.

Seeded, so a failure replays the same kill schedule; the figures it prints are the ones in
docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import OCI_MANIFEST, sha256
from tests.support.scan_fixtures import advisory, db_update, mirror
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(400)]

SEED = 1717
CHAOS_SECONDS = 50.0
SETTLE_SECONDS = 150.0
REPOS = ["chaos/a", "chaos/b", "chaos/c"]
CHUNK = 256 << 10


@dataclass
class Acked:
    repo: str
    tag: str
    manifest: bytes
    blobs: dict[str, bytes]


@dataclass
class Tally:
    attempted: int = 0
    acked: list[Acked] = field(default_factory=list)
    errors_500: list[str] = field(default_factory=list)
    interrupted: int = 0
    why: dict[str, int] = field(default_factory=dict)
    kills: dict[str, int] = field(default_factory=lambda: {"server": 0, "worker": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)


def layer(rng: random.Random) -> bytes:
    """A small npm image layer (one vulnerable package, so scans find something) plus noise."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        files = {
            "etc/os-release": b"ID=debian\nVERSION_ID=12\n",
            "app/node_modules/left-pad/package.json": b'{"name":"left-pad","version":"1.0.0"}',
            f"app/noise-{rng.getrandbits(32)}": rng.randbytes(rng.randint(0, 3 << 20)),
        }
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), compresslevel=1)


def check(r: httpx.Response, tally: Tally, want: int) -> None:
    if r.status_code >= 500:
        with tally.lock:
            tally.errors_500.append(f"{r.request.method} {r.request.url.path}: {r.status_code}")
    if r.status_code != want:
        raise httpx.TransportError(f"{r.status_code} {r.text[:200]}")


def upload(c: httpx.Client, repo: str, data: bytes, tally: Tally) -> str:
    """POST, PATCH in chunks (each acknowledged), PUT with the digest: the chunked push path."""
    r = c.post(f"/v2/{repo}/blobs/uploads/")
    check(r, tally, 202)
    location = r.headers["Location"]
    for start in range(0, len(data), CHUNK):
        part = data[start : start + CHUNK]
        r = c.patch(
            location,
            content=part,
            headers={"Content-Range": f"{start}-{start + len(part) - 1}"},
        )
        check(r, tally, 202)
        location = r.headers["Location"]
    r = c.put(location, params={"digest": sha256(data)})
    check(r, tally, 201)
    return sha256(data)


def wait_until_up(url: str, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            if httpx.get(url + "/v2/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)


def pusher(url: str, stop: threading.Event, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    n = 0
    while not stop.is_set():
        repo, n = rng.choice(REPOS), n + 1
        tag = f"p{seed}-{n}"
        blobs = {
            "layer": layer(rng),
            "config": json.dumps({"architecture": "amd64", "os": "linux", "n": tag}).encode(),
        }
        with tally.lock:
            tally.attempted += 1
        try:
            with httpx.Client(base_url=url, timeout=30) as c:
                digests = {k: upload(c, repo, v, tally) for k, v in blobs.items()}
                manifest = json.dumps({
                    "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": digests["config"], "size": len(blobs["config"])},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                "digest": digests["layer"], "size": len(blobs["layer"])}],
                }).encode()  # fmt: skip
                r = c.put(
                    f"/v2/{repo}/manifests/{tag}",
                    content=manifest,
                    headers={"Content-Type": OCI_MANIFEST},
                )
                check(r, tally, 201)
        except (httpx.TransportError, KeyError) as exc:
            with tally.lock:
                tally.interrupted += 1
                why = str(exc).split(" ", 1)[0][:40] or type(exc).__name__
                tally.why[why] = tally.why.get(why, 0) + 1
            wait_until_up(url, stop)  # then push a new image
            continue
        with tally.lock:
            tally.acked.append(Acked(repo, tag, manifest, {sha256(v): v for v in blobs.values()}))


class Worker:
    """A `tidegate worker` process on the server's data dir."""

    def __init__(self, data: Path, env: dict[str, str], log: Path) -> None:
        self.data, self.env, self.log = data, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tidegate", "worker", "--data-dir", str(self.data)],
                env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def chaos(
    server: TidegateServer, workers: list[Worker], stop: threading.Event, tally: Tally
) -> None:
    rng = random.Random(SEED)
    while not stop.wait(rng.uniform(1.5, 4.0)):
        if rng.random() < 0.4:
            server.kill9()
            tally.kills["server"] += 1
            time.sleep(rng.uniform(0.1, 1.0))
            server.start()
        else:
            victim = rng.choice(workers)
            victim.kill9()
            tally.kills["worker"] += 1
            time.sleep(rng.uniform(0.1, 1.0))
            victim.start()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[TidegateServer, list[Worker]]]:
    data = tmp_path / "data"
    db_update(data, mirror(tmp_path / "mirror", [advisory("GHSA-c", "CVE-1", "left-pad", "2")]))
    (tmp_path / "tmp").mkdir()
    env = {
        "TIDEGATE_ANONYMOUS_ACCESS": "push",
        "TIDEGATE_WORKERS": "1",
        # A killed holder's job is taken over quickly (the default lease is 5 minutes).
        "TIDEGATE_SCAN_LEASE_SECONDS": "6",
        "TIDEGATE_LOG_FORMAT": "text",
        "TIDEGATE_VULNDB_IMPORT_ON_START": "false",
        "TMPDIR": str(tmp_path / "tmp"),
    }
    server = TidegateServer(data, env=env)
    workers = [Worker(data, env, tmp_path / f"worker-{i}.log") for i in range(2)]
    server.start()
    for w in workers:
        w.start()
    try:
        yield server, workers
    finally:
        for w in workers:
            w.stop()
        server.stop()


def test_kill9_chaos_loses_nothing_and_every_scan_ends(
    cluster: tuple[TidegateServer, list[Worker]], tmp_path: Path
) -> None:
    server, workers = cluster
    ecr = server.ecr()
    for repo in REPOS:
        ecr.create_repository(repositoryName=repo, imageScanningConfiguration={"scanOnPush": True})
    tally, stop = Tally(), threading.Event()
    threads = [
        threading.Thread(target=pusher, args=(server.url, stop, tally, seed)) for seed in (1, 2, 3)
    ]
    killer = threading.Thread(target=chaos, args=(server, workers, stop, tally))
    for t in [*threads, killer]:
        t.start()
    time.sleep(CHAOS_SECONDS)
    stop.set()
    killer.join()
    for t in threads:
        t.join(60)
    assert server.proc is not None
    assert server.proc.poll() is None
    # Every acknowledged push reads back byte-identical.
    lost = []
    with httpx.Client(base_url=server.url, timeout=60) as c:
        for a in tally.acked:
            got = c.get(f"/v2/{a.repo}/manifests/{a.tag}", headers={"Accept": OCI_MANIFEST})
            if got.status_code != 200 or got.content != a.manifest:
                lost.append(f"{a.repo}:{a.tag} manifest {got.status_code}")
            for digest, blob in a.blobs.items():
                got = c.get(f"/v2/{a.repo}/blobs/{digest}")
                if got.status_code != 200 or got.content != blob:
                    lost.append(f"{a.repo}:{a.tag} blob {digest} {got.status_code}")
    # Every acknowledged image's scan reaches a final state.
    final: dict[str, dict[str, str]] = {}
    deadline = time.monotonic() + SETTLE_SECONDS
    while len(final) < len(tally.acked) and time.monotonic() < deadline:
        for a in tally.acked:
            key = f"{a.repo}:{a.tag}"
            if key in final:
                continue
            status = ecr.describe_image_scan_findings(
                repositoryName=a.repo, imageId={"imageTag": a.tag}
            )["imageScanStatus"]
            if status["status"] not in ("PENDING", "IN_PROGRESS"):
                final[key] = status
        time.sleep(1.0)
    hung = sorted({f"{a.repo}:{a.tag}" for a in tally.acked} - set(final))
    counts: dict[str, int] = {}
    for status in final.values():
        counts[status["status"]] = counts.get(status["status"], 0) + 1
    for w in workers:
        w.stop()
    server.stop()
    with contextlib.closing(sqlite3.connect(server.data_dir / "meta.db")) as db:
        retried = db.execute("SELECT count(*) FROM scan_jobs WHERE attempts > 1").fetchone()[0]
    leftovers = sorted(p.name for p in (tmp_path / "tmp").iterdir() if "tidegate" in p.name)
    scratch = server.data_dir / "scratch"
    scratch_left = sorted(p.name for p in scratch.iterdir()) if scratch.is_dir() else []
    summary = {
        "pushes_attempted": tally.attempted,
        "pushes_acknowledged": len(tally.acked),
        "pushes_interrupted": tally.interrupted,
        "interrupted_by": tally.why,
        "lost": lost,
        "kills": tally.kills,
        "scans": counts,
        "scan_jobs_run_again_after_a_kill": retried,
        "hung": hung,
        "http_500": tally.errors_500,
        "scratch_left": leftovers + scratch_left,
        "failed_reasons": sorted(
            {s.get("description", "") for s in final.values() if s["status"] == "FAILED"}
        ),
    }
    print(json.dumps(summary, indent=1))
    assert tally.acked, "no push was acknowledged"
    assert tally.kills["server"]
    assert tally.kills["worker"]
    assert lost == []
    assert hung == []
    assert tally.errors_500 == []
    assert summary["scratch_left"] == []
    assert all(s.get("description") for s in final.values() if s["status"] == "FAILED")
