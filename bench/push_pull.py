"""Push and pull the same large image with skopeo into Tidegate and into the CNCF
Distribution registry (Debian's `docker-registry`), side by side, and print MB/s and ratios.

    .venv/bin/python bench/push_pull.py [--layers 5] [--layer-mib 110] [--runs 3]

Each run starts both registries on fresh storage (so every blob is really uploaded), pushes
with `skopeo copy oci:... docker://...`, then pulls into a fresh directory; the order of the
two registries alternates between runs. Layers are random (incompressible) tar files.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.server import TidegateServer, free_port  # noqa: E402

MiB = 1 << 20


def build_image(dest: Path, layers: int, layer_mib: int) -> int:
    """An OCI layout of `layers` gzip tar layers of random bytes; returns total bytes.

    Layers are already gzip-compressed (at level 1: random data does not shrink) because
    skopeo would otherwise compress uncompressed layers on push and measure its own gzip.
    """
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    descriptors = []
    diff_ids = []
    total = 0
    for i in range(layers):
        tmp = dest / f"layer{i}.tar"
        with tarfile.open(tmp, "w") as tar:
            info = tarfile.TarInfo(f"data/blob{i}.bin")
            info.size = layer_mib * MiB
            with open("/dev/urandom", "rb") as rnd:
                tar.addfile(info, io.BufferedReader(rnd, buffer_size=MiB))  # type: ignore[arg-type]
        diff_ids.append("sha256:" + hashlib.sha256(tmp.read_bytes()).hexdigest())
        packed = dest / f"layer{i}.tar.gz"
        with tmp.open("rb") as raw, gzip.open(packed, "wb", compresslevel=1) as gz:
            shutil.copyfileobj(raw, gz, MiB)
        tmp.unlink()
        digest = hashlib.sha256(packed.read_bytes()).hexdigest()
        size = packed.stat().st_size
        packed.rename(blobs / digest)
        descriptors.append(
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": f"sha256:{digest}",
                "size": size,
            }
        )
        total += size
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    ).encode()
    config_digest = hashlib.sha256(config).hexdigest()
    (blobs / config_digest).write_bytes(config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": f"sha256:{config_digest}",
                "size": len(config),
            },
            "layers": descriptors,
        }
    ).encode()
    manifest_digest = hashlib.sha256(manifest).hexdigest()
    (blobs / manifest_digest).write_bytes(manifest)
    (dest / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": f"sha256:{manifest_digest}",
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": "bench"},
            }
        ],
    }
    (dest / "index.json").write_text(json.dumps(index))
    return total


class Distribution:
    """Debian's docker-registry (CNCF Distribution 2.8) on filesystem storage."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.root = root
        config = root / "config.yml"
        root.mkdir(parents=True, exist_ok=True)
        config.write_text(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n"
        )
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if (
                subprocess.run(
                    ["curl", "-sf", f"http://127.0.0.1:{self.port}/v2/"], capture_output=True
                ).returncode
                == 0
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("docker-registry did not start")

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def timed_copy(src: str, dst: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", src, dst],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def run_once(kind: str, layout: Path, work: Path) -> tuple[float, float]:
    work.mkdir(parents=True)
    if kind == "tidegate":
        server = TidegateServer(
            work / "data", env={"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_ACCESS_LOG": "false"}
        )
        server.start()
        host, stop = server.host, server.stop
    else:
        peer = Distribution(work)
        host, stop = peer.host, peer.stop
    try:
        push = timed_copy(f"oci:{layout}:bench", f"docker://{host}/bench/image:v1")
        pull = timed_copy(f"docker://{host}/bench/image:v1", f"oci:{work / 'pulled'}:bench")
    finally:
        stop()
    shutil.rmtree(work)
    return push, pull


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--layer-mib", type=int, default=110)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tidegate-bench-") as tmp:
        root = Path(tmp)
        total = build_image(root / "layout", args.layers, args.layer_mib)
        mb = total / 1e6
        print(f"image: {args.layers} layers, {mb:.0f} MB, incompressible; {args.runs} runs each")
        results: dict[str, dict[str, list[float]]] = {
            k: {"push": [], "pull": []} for k in ("tidegate", "distribution")
        }
        for run in range(args.runs):
            order = ("tidegate", "distribution") if run % 2 == 0 else ("distribution", "tidegate")
            for kind in order:
                push, pull = run_once(kind, root / "layout", root / f"{kind}-{run}")
                results[kind]["push"].append(mb / push)
                results[kind]["pull"].append(mb / pull)
                print(
                    f"  run {run} {kind:12s} push {mb / push:7.1f} MB/s  pull {mb / pull:7.1f} MB/s"
                )
        for op in ("push", "pull"):
            ours = statistics.median(results["tidegate"][op])
            peer = statistics.median(results["distribution"][op])
            print(
                f"{op}: tidegate {ours:.1f} MB/s, distribution {peer:.1f} MB/s, "
                f"ratio {ours / peer:.2f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
