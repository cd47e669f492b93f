"""ECR's layer API (BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart,
CompleteLayerUpload, GetDownloadUrlForLayer) with boto3 against a real server, the image
completed by PutImage and pulled back by skopeo; and every error ECR models for it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration]

MIB = 1024 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    data = tmp_path_factory.mktemp("layers") / "data"
    with TidegateServer(data, env={"TIDEGATE_REGISTRY_ID": "123456789012"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def ecr(server: TidegateServer) -> Any:
    client = server.ecr()
    for name in ("layers/app", "layers/errors"):
        client.create_repository(repositoryName=name)
    return client


def code_of(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def upload(ecr: Any, name: str, data: bytes, part: int) -> tuple[str, int]:
    """Send `data` in parts of `part` bytes; the upload id and the last byte acknowledged."""
    upload_id = ecr.initiate_layer_upload(repositoryName=name)["uploadId"]
    last = -1
    for first in range(0, len(data), part):
        chunk = data[first : first + part]
        r = ecr.upload_layer_part(
            repositoryName=name, uploadId=upload_id, partFirstByte=first,
            partLastByte=first + len(chunk) - 1, layerPartBlob=chunk,
        )  # fmt: skip
        assert r["uploadId"] == upload_id
        assert r["repositoryName"] == name
        assert r["registryId"] == "123456789012"
        last = r["lastByteReceived"]
        assert last == first + len(chunk) - 1
    return upload_id, last


def test_push_in_parts_put_image_and_pull_with_skopeo(
    server: TidegateServer, ecr: Any, tmp_path: Path
) -> None:
    name = "layers/app"
    started = ecr.initiate_layer_upload(repositoryName=name)
    assert started["partSize"] == 5 * MIB
    layer = os.urandom(5 * MIB) + os.urandom(5 * MIB) + b"tail of the layer"
    upload_id, last = upload(ecr, name, layer, 5 * MIB)
    assert last == len(layer) - 1
    done = ecr.complete_layer_upload(
        repositoryName=name, uploadId=upload_id, layerDigests=[sha256(layer)]
    )
    assert done["layerDigest"] == sha256(layer)
    assert done["uploadId"] == upload_id
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {}}).encode()
    config_upload, _ = upload(ecr, name, config, 5 * MIB)
    ecr.complete_layer_upload(
        repositoryName=name, uploadId=config_upload, layerDigests=[sha256(config)]
    )

    checked = ecr.batch_check_layer_availability(
        repositoryName=name,
        layerDigests=[sha256(layer), sha256(config), sha256(b"never sent"), "sha256:abc"],
    )
    assert checked["layers"] == [
        {"layerDigest": sha256(layer), "layerAvailability": "AVAILABLE", "layerSize": len(layer)},
        {"layerDigest": sha256(config), "layerAvailability": "AVAILABLE",
         "layerSize": len(config)},
    ]  # fmt: skip
    failures = {f["layerDigest"]: f["failureCode"] for f in checked["failures"]}
    assert failures == {
        sha256(b"never sent"): "MissingLayerDigest",
        "sha256:abc": "InvalidLayerDigest",
    }

    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": sha256(layer), "size": len(layer)}],
        }
    )  # fmt: skip
    put = ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag="v1")
    assert put["image"]["imageId"]["imageDigest"] == sha256(manifest.encode())

    url = ecr.get_download_url_for_layer(repositoryName=name, layerDigest=sha256(layer))
    assert url["layerDigest"] == sha256(layer)
    got = httpx.get(url["downloadUrl"], auth=server.access_key(), timeout=60)
    assert got.status_code == 200
    assert got.content == layer

    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    out = tmp_path / "pulled"
    creds = base64.b64decode(token).decode()
    pulled = subprocess.run(
        ["skopeo", "copy", "--preserve-digests", "--src-tls-verify=false", "--src-creds", creds,
         f"docker://{server.host}/{name}:v1", f"oci:{out}:v1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert pulled.returncode == 0, pulled.stderr
    blobs = out / "blobs" / "sha256"
    assert (blobs / sha256(layer).split(":")[1]).read_bytes() == layer
    assert (blobs / sha256(config).split(":")[1]).read_bytes() == config
    assert (blobs / sha256(manifest.encode()).split(":")[1]).read_bytes() == manifest.encode()


def test_layer_part_errors(ecr: Any) -> None:
    name = "layers/errors"
    with pytest.raises(ClientError) as info:
        ecr.upload_layer_part(
            repositoryName=name, uploadId="7f0c2a6e-3f59-4a4a-9d55-3a1c7d1b0f00",
            partFirstByte=0, partLastByte=2, layerPartBlob=b"abc",
        )  # fmt: skip
    assert code_of(info) == "UploadNotFoundException"
    upload_id = ecr.initiate_layer_upload(repositoryName=name)["uploadId"]
    with pytest.raises(ClientError) as info:
        ecr.upload_layer_part(
            repositoryName="layers/app", uploadId=upload_id,
            partFirstByte=0, partLastByte=2, layerPartBlob=b"abc",
        )  # fmt: skip
    assert code_of(info) == "UploadNotFoundException"  # an upload belongs to its repository
    with pytest.raises(ClientError) as info:
        ecr.upload_layer_part(
            repositoryName=name, uploadId=upload_id,
            partFirstByte=0, partLastByte=9, layerPartBlob=b"abc",
        )  # fmt: skip
    assert code_of(info) == "InvalidLayerPartException"
    ecr.upload_layer_part(
        repositoryName=name, uploadId=upload_id, partFirstByte=0, partLastByte=2,
        layerPartBlob=b"abc",
    )  # fmt: skip
    for first in (0, 5):  # a repeated part and a gap are both refused, and change nothing
        with pytest.raises(ClientError) as info:
            ecr.upload_layer_part(
                repositoryName=name, uploadId=upload_id,
                partFirstByte=first, partLastByte=first + 2, layerPartBlob=b"def",
            )  # fmt: skip
        assert code_of(info) == "InvalidLayerPartException"
    r = ecr.upload_layer_part(
        repositoryName=name, uploadId=upload_id, partFirstByte=3, partLastByte=5,
        layerPartBlob=b"def",
    )  # fmt: skip
    assert r["lastByteReceived"] == 5
    # Two parts, the first under ECR's 5 MiB minimum.
    with pytest.raises(ClientError) as info:
        ecr.complete_layer_upload(
            repositoryName=name, uploadId=upload_id, layerDigests=[sha256(b"abcdef")]
        )
    assert code_of(info) == "LayerPartTooSmallException"


def test_complete_errors(ecr: Any) -> None:
    name = "layers/errors"
    with pytest.raises(ClientError) as info:
        ecr.complete_layer_upload(
            repositoryName=name, uploadId="7f0c2a6e-3f59-4a4a-9d55-3a1c7d1b0f00",
            layerDigests=[sha256(b"x")],
        )  # fmt: skip
    assert code_of(info) == "UploadNotFoundException"

    empty = ecr.initiate_layer_upload(repositoryName=name)["uploadId"]
    with pytest.raises(ClientError) as info:
        ecr.complete_layer_upload(repositoryName=name, uploadId=empty, layerDigests=[sha256(b"")])
    assert code_of(info) == "EmptyUploadException"

    data = b"a small single-part layer"
    wrong, _ = upload(ecr, name, data, 5 * MIB)
    with pytest.raises(ClientError) as info:
        ecr.complete_layer_upload(
            repositoryName=name, uploadId=wrong, layerDigests=[sha256(b"other")]
        )
    assert code_of(info) == "InvalidLayerException"
    # The mismatched upload is gone and nothing was stored under either digest.
    with pytest.raises(ClientError) as info:
        ecr.complete_layer_upload(repositoryName=name, uploadId=wrong, layerDigests=[sha256(data)])
    assert code_of(info) == "UploadNotFoundException"
    checked = ecr.batch_check_layer_availability(
        repositoryName=name, layerDigests=[sha256(data), sha256(b"other")]
    )
    assert checked["layers"] == []

    bad_digest, _ = upload(ecr, name, data, 5 * MIB)
    with pytest.raises(ClientError) as info:
        ecr.complete_layer_upload(
            repositoryName=name, uploadId=bad_digest, layerDigests=["sha256:abc"]
        )
    assert code_of(info) == "InvalidLayerException"
    with pytest.raises(ClientError) as info:
        ecr.complete_layer_upload(
            repositoryName=name, uploadId=bad_digest,
            layerDigests=[sha256(data), sha256(data)],
        )  # fmt: skip
    assert code_of(info) == "InvalidParameterException"
    ecr.complete_layer_upload(repositoryName=name, uploadId=bad_digest, layerDigests=[sha256(data)])

    again, _ = upload(ecr, name, data, 5 * MIB)
    with pytest.raises(ClientError) as info:
        ecr.complete_layer_upload(repositoryName=name, uploadId=again, layerDigests=[sha256(data)])
    assert code_of(info) == "LayerAlreadyExistsException"


def test_missing_repository_and_layer(ecr: Any) -> None:
    calls: list[Callable[[], object]] = [
        lambda: ecr.initiate_layer_upload(repositoryName="layers/none"),
        lambda: ecr.batch_check_layer_availability(
            repositoryName="layers/none", layerDigests=[sha256(b"x")]
        ),
    ]
    for call in calls:
        with pytest.raises(ClientError) as info:
            call()
        assert code_of(info) == "RepositoryNotFoundException"
    with pytest.raises(ClientError) as info:
        ecr.get_download_url_for_layer(repositoryName="layers/errors", layerDigest=sha256(b"?"))
    assert code_of(info) == "LayersNotFoundException"


def test_bad_base64_part(server: TidegateServer, ecr: Any) -> None:
    """A layerPartBlob that is not base64 (sent raw, as botocore never would) is refused."""
    import boto3  # noqa: F401  (the signed raw request below goes through botocore's signer)
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    upload_id = ecr.initiate_layer_upload(repositoryName="layers/errors")["uploadId"]
    body = json.dumps(
        {"repositoryName": "layers/errors", "uploadId": upload_id, "partFirstByte": 0,
         "partLastByte": 0, "layerPartBlob": "not base64!"}
    )  # fmt: skip
    req = AWSRequest(
        "POST", server.url + "/", data=body,
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.UploadLayerPart"},
    )  # fmt: skip
    SigV4Auth(Credentials(*server.access_key()), "ecr", "us-east-1").add_auth(req)
    r = httpx.post(server.url + "/", content=body, headers=dict(req.headers.items()))
    assert r.status_code == 400
    assert r.json()["__type"] == "SerializationException"


@pytest.mark.postgres
def test_layer_api_and_audit_on_postgres(tmp_path: Path) -> None:
    """The same upload parts, part-size check and audit rows on PostgreSQL metadata, with the
    AWS CLI checking the layer."""
    from tests.support.postgres import fresh_database

    with (
        fresh_database() as url,
        TidegateServer(
            tmp_path / "data",
            env={"TIDEGATE_DATABASE_URL": url, "TIDEGATE_REGISTRY_ID": "123456789012"},
        ) as srv,
    ):
        ecr = srv.ecr()
        ecr.create_repository(repositoryName="pg/layers")
        small = ecr.initiate_layer_upload(repositoryName="pg/layers")["uploadId"]
        for first, chunk in ((0, b"abc"), (3, b"def")):
            ecr.upload_layer_part(
                repositoryName="pg/layers", uploadId=small, partFirstByte=first,
                partLastByte=first + 2, layerPartBlob=chunk,
            )  # fmt: skip
        with pytest.raises(ClientError) as info:
            ecr.complete_layer_upload(
                repositoryName="pg/layers", uploadId=small, layerDigests=[sha256(b"abcdef")]
            )
        assert code_of(info) == "LayerPartTooSmallException"
        layer = os.urandom(5 * MIB) + b"end"
        upload_id, _ = upload(ecr, "pg/layers", layer, 5 * MIB)
        ecr.complete_layer_upload(
            repositoryName="pg/layers", uploadId=upload_id, layerDigests=[sha256(layer)]
        )
        env = {
            **os.environ,
            "AWS_SHARED_CREDENTIALS_FILE": str(srv.data_dir / "credentials"),
            "AWS_CONFIG_FILE": "/dev/null",
        }
        aws = subprocess.run(
            [str(Path(sys.executable).parent / "aws"), "ecr", "batch-check-layer-availability",
             "--endpoint-url", srv.url, "--region", "us-east-1", "--output", "json",
             "--repository-name", "pg/layers", "--layer-digests", sha256(layer)],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert aws.returncode == 0, aws.stderr
        assert json.loads(aws.stdout)["layers"][0]["layerSize"] == len(layer)
        listed = subprocess.run(
            [sys.executable, "-m", "tidegate", "audit", "--data-dir", str(srv.data_dir),
             "--json", "--action", "ecr:*Layer*"],
            capture_output=True, text=True, env=dict(env, TIDEGATE_DATABASE_URL=url), timeout=120,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        events = json.loads(listed.stdout)
        assert [(e["action"], e["result"]) for e in reversed(events)] == [
            ("ecr:InitiateLayerUpload", "allowed"),
            ("ecr:UploadLayerPart", "allowed"),
            ("ecr:UploadLayerPart", "allowed"),
            ("ecr:CompleteLayerUpload", "failed"),
            ("ecr:InitiateLayerUpload", "allowed"),
            ("ecr:UploadLayerPart", "allowed"),
            ("ecr:UploadLayerPart", "allowed"),
            ("ecr:CompleteLayerUpload", "allowed"),
        ]
        assert {e["resource"] for e in events} == {
            "arn:aws:ecr:us-east-1:123456789012:repository/pg/layers"
        }
