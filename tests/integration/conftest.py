"""Fixtures for tests that drive a real `tidegate serve` process."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import TidegateServer

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    """A server that lets anonymous clients push: for protocol tests that are not about auth."""
    data = tmp_path_factory.mktemp("tidegate") / "data"
    with TidegateServer(data, env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as server:
        yield server


@pytest.fixture
def client(open_server: TidegateServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=open_server.url, timeout=30.0) as c:
        yield c


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(client: httpx.Client, name: str, data: bytes) -> str:
    digest = sha256(data)
    r = client.post(f"/v2/{name}/blobs/uploads/", params={"digest": digest}, content=data)
    assert r.status_code == 201, r.text
    return digest


def image_manifest(
    client: httpx.Client,
    name: str,
    layers: list[bytes],
    *,
    config: bytes = b'{"architecture":"amd64","os":"linux"}',
    extra: dict[str, object] | None = None,
    config_media_type: str = "application/vnd.oci.image.config.v1+json",
) -> bytes:
    """Push the blobs and return the bytes of an OCI image manifest referencing them."""
    config_digest = push_blob(client, name, config)
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config_media_type, "digest": config_digest, "size": len(config)},
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": push_blob(client, name, layer),
                "size": len(layer),
            }
            for layer in layers
        ],
    }
    doc.update(extra or {})
    return json.dumps(doc).encode()


def put_manifest(
    client: httpx.Client, name: str, ref: str, body: bytes, media_type: str = OCI_MANIFEST
) -> httpx.Response:
    return client.put(
        f"/v2/{name}/manifests/{ref}", content=body, headers={"Content-Type": media_type}
    )


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["code"]
    return code


@pytest.fixture
def blob_dir(open_server: TidegateServer) -> Path:
    return open_server.data_dir / "blobs"
