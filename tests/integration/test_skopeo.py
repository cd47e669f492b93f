"""skopeo (Debian's) copies real images into Tidegate, back out, across repositories, and deletes.

The image is a debootstrap'd Debian bookworm rootfs (cached by tests.support.debian_image)
plus a second layer, and a two-platform OCI index built from the same content.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import debian_image
from tests.support import oci_build as ob
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INSECURE = ["--src-tls-verify=false", "--dest-tls-verify=false"]


def skopeo(*args: str) -> str:
    result = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout


def layout_blobs(layout: Path) -> dict[str, bytes]:
    return {"sha256:" + p.name: p.read_bytes() for p in (layout / "blobs" / "sha256").iterdir()}


@pytest.fixture(scope="module")
def debian_layouts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("images")
    base = debian_image.base_rootfs()
    extra = [
        ob.file("srv/app/config.json", b'{"app": true}'),
        ob.file("srv/app/run.sh", "#!/bin/sh\n", 0o755),
    ]
    single = root / "single"
    ob.build_oci_layout(single, [ob.Layer(base), ob.Layer(extra)], tag="v1")
    multi = root / "multi"
    ob.build_oci_index(
        multi,
        {"linux/amd64": [ob.Layer(base), ob.Layer(extra)], "linux/arm64": [ob.Layer(extra)]},
        tag="v1",
    )
    return single, multi


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    data = tmp_path_factory.mktemp("skopeo") / "data"
    with TidegateServer(data, env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as srv:
        yield srv


def test_push_and_pull_round_trip(
    server: TidegateServer, debian_layouts: tuple[Path, Path], tmp_path: Path
) -> None:
    single, _ = debian_layouts
    skopeo("copy", *INSECURE, f"oci:{single}:v1", f"docker://{server.host}/debian/base:v1")
    raw = skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{server.host}/debian/base:v1")
    source_index = json.loads((single / "index.json").read_text())
    source_digest = source_index["manifests"][0]["digest"]
    source_blobs = layout_blobs(single)
    assert source_blobs[source_digest] == raw.encode()
    out = tmp_path / "pulled"
    skopeo("copy", *INSECURE, f"docker://{server.host}/debian/base:v1", f"oci:{out}:v1")
    pulled = layout_blobs(out)
    manifest = json.loads(raw)
    for desc in [manifest["config"], *manifest["layers"]]:
        assert pulled[desc["digest"]] == source_blobs[desc["digest"]]
    assert json.loads((out / "index.json").read_text())["manifests"][0]["digest"] == source_digest
    assert len(manifest["layers"]) == 2
    assert manifest["layers"][0]["size"] > 10_000_000  # a real Debian rootfs


def test_index_round_trip(
    server: TidegateServer, debian_layouts: tuple[Path, Path], tmp_path: Path
) -> None:
    _, multi = debian_layouts
    skopeo("copy", "--all", *INSECURE, f"oci:{multi}:v1", f"docker://{server.host}/debian/multi:v1")
    raw = skopeo(
        "inspect", "--tls-verify=false", "--raw", f"docker://{server.host}/debian/multi:v1"
    )
    index = json.loads(raw)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert {m["platform"]["architecture"] for m in index["manifests"]} == {"amd64", "arm64"}
    out = tmp_path / "pulled-multi"
    skopeo("copy", "--all", *INSECURE, f"docker://{server.host}/debian/multi:v1", f"oci:{out}:v1")
    source = layout_blobs(multi)
    for digest, data in layout_blobs(out).items():
        assert source[digest] == data


def test_copy_between_repositories_mounts_and_delete(
    server: TidegateServer, debian_layouts: tuple[Path, Path]
) -> None:
    single, _ = debian_layouts
    skopeo("copy", *INSECURE, f"oci:{single}:v1", f"docker://{server.host}/debian/src:v1")
    before = len(server.log().splitlines())
    skopeo(
        "copy", *INSECURE,
        f"docker://{server.host}/debian/src:v1", f"docker://{server.host}/team/copy/api:v1",
    )  # fmt: skip
    new_lines = server.log().splitlines()[before:]
    created = "method=POST path=/v2/team/copy/api/blobs/uploads/ status=201"
    mounts = [line for line in new_lines if created in line]
    assert mounts, "skopeo did not mount blobs across repositories"
    src = skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{server.host}/debian/src:v1")
    dst = skopeo(
        "inspect", "--tls-verify=false", "--raw", f"docker://{server.host}/team/copy/api:v1"
    )
    assert src == dst
    skopeo("delete", "--tls-verify=false", f"docker://{server.host}/team/copy/api:v1")
    digest = "sha256:" + hashlib.sha256(dst.encode()).hexdigest()
    r = httpx.get(f"{server.url}/v2/team/copy/api/manifests/{digest}")
    assert r.status_code == 404
    assert httpx.get(f"{server.url}/v2/debian/src/manifests/v1").status_code == 200
