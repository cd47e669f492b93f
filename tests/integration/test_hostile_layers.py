"""A hostile-layer corpus, generated as the test runs, pushed over HTTP to a real server and
scanned on push: every scan ends COMPLETE (the hostile part contained) or FAILED with a
reason, none hangs, nothing is written outside the data directory, and the server keeps
serving. Decompression bombs have their own tests (resource budgets).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import zstandard

from tests.integration.conftest import image_manifest, put_manifest
from tests.support.scan_fixtures import advisory, db_update, mirror
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOKEN = "tg-escape-" + os.urandom(4).hex()
"""Part of every escaping name, so a file that got out can be found anywhere."""
OS_RELEASE = b"ID=debian\nVERSION_ID=12\n"
STATUS = b"Package: a\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"
CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'


def member(tar: tarfile.TarFile, name: str, data: bytes = b"", **fields: Any) -> None:
    info = tarfile.TarInfo(name)
    for key, value in fields.items():
        setattr(info, key, value)
    info.size = len(data) if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    tar.addfile(info, io.BytesIO(data) if info.size else None)


def tar_of(build: Callable[[tarfile.TarFile], None], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        member(tar, "etc/os-release", OS_RELEASE)
        build(tar)
    return buf.getvalue()


def base() -> bytes:
    return gzip.compress(tar_of(lambda tar: member(tar, "var/lib/dpkg/status", STATUS)))


def traversal(tar: tarfile.TarFile) -> None:
    member(tar, f"../../../../{TOKEN}-dotdot", b"x")
    member(tar, f"var/../../{TOKEN}-mid", b"x")
    member(tar, "../../var/lib/dpkg/status", STATUS)


def absolute(tar: tarfile.TarFile) -> None:
    member(tar, f"/tmp/{TOKEN}-abs", b"x")
    member(tar, "/var/lib/dpkg/status", STATUS)
    member(tar, f"//{TOKEN}-abs2", b"x")


def symlink_escapes(tar: tarfile.TarFile) -> None:
    sym = tarfile.SYMTYPE
    member(tar, "var/lib/dpkg", type=sym, linkname="../../../../../../tmp")
    member(tar, "var/lib/dpkg/status", STATUS)
    member(tar, "usr/lib/os-release", type=sym, linkname="/etc/os-release")
    member(tar, "loop/a", type=sym, linkname="b")
    member(tar, "loop/b", type=sym, linkname="a")
    member(tar, "loop/a/os-release", OS_RELEASE)
    member(tar, f"{TOKEN}-link", type=sym, linkname=f"/tmp/{TOKEN}-target")
    member(tar, f"{TOKEN}-link", b"written through the link?")


def hardlink_escapes(tar: tarfile.TarFile) -> None:
    hard = tarfile.LNKTYPE
    member(tar, "var/lib/dpkg/status", type=hard, linkname="../../../../etc/passwd")
    member(tar, "lib/apk/db/installed", type=hard, linkname="/etc/shadow")
    member(tar, "usr/lib/os-release", type=hard, linkname="etc/os-release")
    member(tar, f"{TOKEN}-hard", type=hard, linkname=f"/tmp/{TOKEN}-hard-target")


def devices(tar: tarfile.TarFile) -> None:
    member(tar, "var/lib/dpkg/status", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
    member(tar, "dev/sda", type=tarfile.BLKTYPE, devmajor=8, devminor=0)
    member(tar, "lib/apk/db/installed", type=tarfile.FIFOTYPE)
    member(tar, "dev/zero", type=tarfile.CHRTYPE, devmajor=1, devminor=5)


def duplicates(tar: tarfile.TarFile) -> None:
    member(tar, "etc/os-release", b"ID=alpine\nVERSION_ID=3.19\n")
    member(tar, "var/lib/dpkg/status", STATUS)
    member(tar, "var/lib/dpkg/status", STATUS.replace(b"1.0", b"2.0"))
    member(tar, "var/lib/dpkg/status", type=tarfile.DIRTYPE)
    member(tar, "var/lib/dpkg/status", type=tarfile.SYMTYPE, linkname="/etc/os-release")


def odd_whiteouts(tar: tarfile.TarFile) -> None:
    member(tar, ".wh.", b"")
    member(tar, ".wh..wh..opq", b"")
    member(tar, "etc/.wh..wh..opq", type=tarfile.DIRTYPE)
    member(tar, ".wh.var", type=tarfile.SYMTYPE, linkname="/")
    member(tar, "var/lib/.wh..", b"")
    member(tar, "var/lib/.wh...", b"")
    member(tar, f".wh.../../{TOKEN}-wh", b"")
    member(tar, "var/lib/dpkg/.wh.status", type=tarfile.CHRTYPE)


def many_files(tar: tarfile.TarFile) -> None:
    for i in range(100_000):
        member(tar, f"f/{i % 100}/{i}")


def deep_path(tar: tarfile.TarFile) -> None:
    deep = "d/" * 5000
    member(tar, deep + "os-release", OS_RELEASE)
    member(tar, deep + "var/lib/dpkg/status", STATUS)
    member(tar, "deep-link", type=tarfile.SYMTYPE, linkname=deep + "x")


def huge_name(size: int) -> Callable[[tarfile.TarFile], None]:
    def build(tar: tarfile.TarFile) -> None:
        member(tar, "n" * size, b"x")
        member(tar, "l", type=tarfile.SYMTYPE, linkname="t" * size)

    return build


def truncated(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


def corpus() -> dict[str, tuple[list[bytes], str | None]]:
    """name → (layers, the final state it must reach, or None when either is fine)."""
    status = tar_of(lambda tar: member(tar, "var/lib/dpkg/status", STATUS * 2000))
    random = os.urandom(64 << 10)
    zstd = zstandard.ZstdCompressor()
    return {
        "traversal": ([gzip.compress(tar_of(traversal))], "COMPLETE"),
        "absolute-paths": ([gzip.compress(tar_of(absolute))], "COMPLETE"),
        "symlink-escapes": ([gzip.compress(tar_of(symlink_escapes))], "COMPLETE"),
        "hardlink-escapes": ([gzip.compress(tar_of(hardlink_escapes))], "COMPLETE"),
        "devices": ([gzip.compress(tar_of(devices))], "COMPLETE"),
        "duplicates": ([gzip.compress(tar_of(duplicates))], "COMPLETE"),
        "odd-whiteouts": ([base(), gzip.compress(tar_of(odd_whiteouts))], "COMPLETE"),
        "100k-files": ([gzip.compress(tar_of(many_files), 1)], "COMPLETE"),
        "5000-deep-path": ([gzip.compress(tar_of(deep_path))], "COMPLETE"),
        "100k-name": ([gzip.compress(tar_of(huge_name(100_000)))], "COMPLETE"),
        "2m-name": ([gzip.compress(tar_of(huge_name(2_000_000)), 1)], "FAILED"),
        "gnu-long-name": ([gzip.compress(tar_of(huge_name(50_000), tarfile.GNU_FORMAT))], None),
        "truncated-gzip": ([base(), truncated(gzip.compress(status), 0.5)], "FAILED"),
        "truncated-zstd": ([truncated(zstd.compress(status), 0.5)], "FAILED"),
        "truncated-tar": ([truncated(status, 0.6)], "FAILED"),
        "gzip-trailing-garbage": ([gzip.compress(status) + random[:100]], None),
        "non-tar": ([random], "FAILED"),
        "gzip-of-non-tar": ([gzip.compress(random)], "FAILED"),
        "zstd-of-non-tar": ([zstd.compress(random)], "FAILED"),
        "empty-blob": ([b""], None),
        "json-as-layer": ([b'{"not": "a layer"}'], "FAILED"),
    }


def _tree(root: Path, skip: Path) -> set[str]:
    return {str(p) for p in root.rglob("*") if skip not in p.parents and p != skip}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    root = tmp_path_factory.mktemp("hostile-layers")
    data = root / "data"
    db_update(data, mirror(root / "mirror", [advisory("GHSA-x", "CVE-0", "left-pad", "2")]))
    tmp = root / "tmp"
    tmp.mkdir()
    env = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_WORKERS": "2", "TMPDIR": str(tmp)}
    with TidegateServer(data, env=env) as srv:
        yield srv


def test_hostile_layers_are_contained_or_fail_with_a_reason(server: TidegateServer) -> None:
    root = server.data_dir.parent
    ecr = server.ecr()
    cases = corpus()
    before = _tree(root, server.data_dir)
    with httpx.Client(base_url=server.url, timeout=120) as v2:
        for name in cases:
            repo = f"hostile/{name}"
            ecr.create_repository(
                repositoryName=repo, imageScanningConfiguration={"scanOnPush": True}
            )
            body = image_manifest(v2, repo, cases[name][0], config=CONFIG)
            r = put_manifest(v2, repo, "v1", body)
            assert r.status_code == 201, (name, r.text)
        outcome: dict[str, dict[str, str]] = {}
        deadline = time.monotonic() + 240
        while len(outcome) < len(cases):
            for name in cases:
                if name in outcome:
                    continue
                status = ecr.describe_image_scan_findings(
                    repositoryName=f"hostile/{name}", imageId={"imageTag": "v1"}
                )["imageScanStatus"]
                if status["status"] not in ("PENDING", "IN_PROGRESS"):
                    outcome[name] = status
            pending = sorted(set(cases) - set(outcome))
            assert time.monotonic() < deadline, f"scans still running: {pending}"
            time.sleep(0.5)
        print(json.dumps(outcome, indent=1))  # the figures in docs/reliability.md
        for name, status in outcome.items():
            assert status["status"] in ("COMPLETE", "FAILED"), (name, status)
            if status["status"] == "FAILED":
                assert status.get("description"), (name, status)
            wanted = cases[name][1]
            assert wanted is None or status["status"] == wanted, (name, status)
        # The server still serves: a plain image pushed now scans COMPLETE.
        ecr.create_repository(
            repositoryName="hostile/after", imageScanningConfiguration={"scanOnPush": True}
        )
        body = image_manifest(v2, "hostile/after", [base()], config=CONFIG)
        assert put_manifest(v2, "hostile/after", "v1", body).status_code == 201
        ecr.get_waiter("image_scan_complete").wait(
            repositoryName="hostile/after",
            imageId={"imageTag": "v1"},
            WaiterConfig={"Delay": 1, "MaxAttempts": 120},
        )
    # Nothing was written outside the data directory: not beside it, not in the server's
    # temp directory (scratch emptied), not in the system temp, not at the filesystem root.
    after = _tree(root, server.data_dir)
    assert after - before <= {str(server.log_path)}, sorted(after - before)
    assert list((root / "tmp").iterdir()) == []
    for place in (Path("/tmp"), Path("/"), root):
        assert not [p for p in place.iterdir() if TOKEN in p.name], place
    assert not list(server.data_dir.rglob(f"*{TOKEN}*"))
