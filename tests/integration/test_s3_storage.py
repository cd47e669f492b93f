"""`tidegate serve` with `[storage] driver = "s3"` on a real S3 engine (SeaweedFS `weed mini`).

skopeo pushes and pulls through 307 redirects to presigned URLs, a chunked upload spans
multipart parts, a scan reads its layers from the bucket, GC deletes from the bucket, and
an outage of the store is a 503 in each API's vocabulary until the store comes back.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support.scan_fixtures import advisory, db_update, mirror, npm_image
from tests.support.seaweed import SeaweedS3
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.s3, pytest.mark.slow]

LODASH = advisory("GHSA-s3-lodash", "CVE-2020-8203", "lodash", "4.17.19")


@pytest.fixture(scope="module")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with SeaweedS3(tmp_path_factory.mktemp("weed") / "data", bucket="registry") as s3:
        yield s3


def storage_env(weed: SeaweedS3, **extra: object) -> dict[str, str]:
    return {"TIDEGATE_STORAGE": json.dumps(weed.storage(prefix="reg", **extra))}


@pytest.fixture(scope="module")
def server(weed: SeaweedS3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    root = tmp_path_factory.mktemp("s3-server")
    data = root / "data"
    db_update(data, mirror(root / "mirror", [LODASH]))
    with TidegateServer(data, env=storage_env(weed)) as srv:
        yield srv


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_key(digest: str) -> str:
    hexpart = digest.split(":", 1)[1]
    return f"reg/blobs/sha256/{hexpart[:2]}/{hexpart}"


def skopeo(*args: str) -> None:
    done = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def layout_blobs(layout: Path) -> dict[str, bytes]:
    return {"sha256:" + p.name: p.read_bytes() for p in (layout / "blobs" / "sha256").iterdir()}


def wait_scan(ecr: Any, repository: str, image: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        out: dict[str, Any] = ecr.describe_image_scan_findings(
            repositoryName=repository, imageId=image
        )
        if out["imageScanStatus"]["status"] not in ("PENDING", "IN_PROGRESS"):
            return out
        assert time.monotonic() < deadline, out["imageScanStatus"]
        time.sleep(0.3)


def test_skopeo_push_scan_and_pull_through_redirects(
    server: TidegateServer, weed: SeaweedS3, tmp_path: Path
) -> None:
    layout = tmp_path / "npm"
    npm_image(layout)
    key = server.access_key()
    ecr = server.ecr()
    ecr.put_registry_scanning_configuration(scanType="ENHANCED")  # npm packages are enhanced
    ecr.create_repository(repositoryName="s3/app")
    skopeo("copy", "--dest-tls-verify=false", f"--dest-creds={key[0]}:{key[1]}",
           f"oci:{layout}:v1", f"docker://{server.host}/s3/app:v1")  # fmt: skip
    pushed = layout_blobs(layout)
    stored = weed.keys("reg/blobs/")
    assert sorted(blob_key(d) for d in pushed) == stored
    # Nothing landed on the server's disk, and no upload is left over in the bucket.
    assert not any(p.is_file() for p in (server.data_dir / "blobs").rglob("*"))
    assert weed.keys("reg/uploads/") == []
    assert weed.multipart_uploads() == []

    # The scan's analysis process read the layer from the bucket.
    found = wait_scan(ecr, "s3/app", {"imageTag": "v1"})
    assert found["imageScanStatus"]["status"] == "ACTIVE"  # enhanced: continuous
    enhanced = found["imageScanFindings"]["enhancedFindings"]
    ids = {f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in enhanced}
    assert ids == {"CVE-2020-8203"}

    manifest = json.loads(
        pushed[json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]]
    )
    layer = manifest["layers"][0]["digest"]
    answer = httpx.get(f"{server.url}/v2/s3/app/blobs/{layer}", auth=key)
    assert answer.status_code == 307
    assert answer.headers["Docker-Content-Digest"] == layer
    location = answer.headers["Location"]
    assert location.startswith(weed.endpoint_url + "/registry/" + blob_key(layer))
    assert httpx.get(location).content == pushed[layer]
    url = ecr.get_download_url_for_layer(repositoryName="s3/app", layerDigest=layer)
    assert url["downloadUrl"].startswith(weed.endpoint_url)
    assert httpx.get(url["downloadUrl"]).content == pushed[layer]

    out = tmp_path / "pulled"
    skopeo("copy", "--src-tls-verify=false", f"--src-creds={key[0]}:{key[1]}",
           f"docker://{server.host}/s3/app:v1", f"oci:{out}:v1")  # fmt: skip
    pulled = layout_blobs(out)
    for desc in [manifest["config"], *manifest["layers"]]:
        assert pulled[desc["digest"]] == pushed[desc["digest"]]


def test_chunked_upload_across_parts_and_a_mismatch_leaves_nothing(
    server: TidegateServer, weed: SeaweedS3
) -> None:
    data = os.urandom(9 << 20) + b"tail"  # more than one 8 MiB part
    digest = sha256(data)
    with httpx.Client(base_url=server.url, auth=server.access_key(), timeout=60) as c:
        location = c.post("/v2/s3/chunked/blobs/uploads/").headers["Location"]
        start = 0
        for size in (3 << 20, 6 << 20, 1, len(data)):
            chunk = data[start : start + size]
            if not chunk:
                break
            r = c.patch(location, content=chunk, headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{start}-{start + len(chunk) - 1}",
            })  # fmt: skip
            assert r.status_code == 202, r.text
            assert r.headers["Range"] == f"0-{start + len(chunk) - 1}"
            location = r.headers["Location"]
            start += len(chunk)
        r = c.put(location, params={"digest": digest})
        assert r.status_code == 201, r.text
        assert c.head(f"/v2/s3/chunked/blobs/{digest}").headers["Content-Length"] == str(len(data))
        assert (
            weed.client().get_object(Bucket="registry", Key=blob_key(digest))["Body"].read() == data
        )

        wrong = sha256(b"something else")
        location = c.post("/v2/s3/chunked/blobs/uploads/").headers["Location"]
        r = c.patch(location, content=data, headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 202
        r = c.put(r.headers["Location"], params={"digest": wrong})
        assert r.status_code == 400
        assert r.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert blob_key(wrong) not in weed.keys("reg/blobs/")
    assert weed.keys("reg/uploads/") == []
    assert weed.multipart_uploads() == []


def test_ecr_layer_parts_go_to_the_bucket(server: TidegateServer, weed: SeaweedS3) -> None:
    ecr = server.ecr()
    ecr.create_repository(repositoryName="s3/ecr-layers")
    layer = os.urandom(5 << 20) + b"the last part"
    upload = ecr.initiate_layer_upload(repositoryName="s3/ecr-layers")["uploadId"]
    for first, last in ((0, (5 << 20) - 1), (5 << 20, len(layer) - 1)):
        ecr.upload_layer_part(
            repositoryName="s3/ecr-layers", uploadId=upload, partFirstByte=first,
            partLastByte=last, layerPartBlob=layer[first : last + 1],
        )  # fmt: skip
    done = ecr.complete_layer_upload(
        repositoryName="s3/ecr-layers", uploadId=upload, layerDigests=[sha256(layer)]
    )
    assert done["layerDigest"] == sha256(layer)
    obj = weed.client().get_object(Bucket="registry", Key=blob_key(sha256(layer)))
    assert obj["Body"].read() == layer
    assert weed.keys(f"reg/uploads/{upload}/") == []


def test_redirect_false_proxies_blobs(weed: SeaweedS3, tmp_path: Path) -> None:
    env = {"TIDEGATE_STORAGE": json.dumps(weed.storage(prefix="proxied", redirect=False)),
           "TIDEGATE_ANONYMOUS_ACCESS": "push"}  # fmt: skip
    srv = TidegateServer(tmp_path / "data", env=env)
    srv.start(timeout=120)  # a second server on a machine other suites keep busy
    try:
        with httpx.Client(base_url=srv.url) as c:
            data = b"proxied bytes " * 1000
            r = c.post("/v2/p/blob/blobs/uploads/", params={"digest": sha256(data)}, content=data)
            assert r.status_code == 201, r.text
            r = c.get(f"/v2/p/blob/blobs/{sha256(data)}")
            assert r.status_code == 200
            assert r.content == data
            r = c.get(f"/v2/p/blob/blobs/{sha256(data)}", headers={"Range": "bytes=5-9"})
            assert r.status_code == 206
            assert r.content == data[5:10]
    finally:
        srv.stop()
    assert weed.keys("proxied/blobs/") == ["proxied/" + blob_key(sha256(data)).removeprefix("reg/")]


def _config(v2: httpx.Client, name: str, layer: bytes) -> bytes:
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    for blob in (config, layer):
        r = v2.post(f"/v2/{name}/blobs/uploads/", params={"digest": sha256(blob)}, content=blob)
        assert r.status_code == 201, r.text
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha256(layer), "size": len(layer)}],
    }).encode()  # fmt: skip


def test_gc_deletes_unreferenced_blobs_from_the_bucket(
    server: TidegateServer, weed: SeaweedS3
) -> None:
    layer = b"a layer nobody will want " * 100
    with httpx.Client(base_url=server.url, auth=server.access_key()) as v2:
        body = _config(v2, "s3/doomed", layer)
        headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        r = v2.put("/v2/s3/doomed/manifests/v1", content=body, headers=headers)
        assert r.status_code == 201
        assert v2.delete(f"/v2/s3/doomed/manifests/{sha256(body)}").status_code == 202
    assert blob_key(sha256(layer)) in weed.keys("reg/blobs/")
    env = {**os.environ, **storage_env(weed)}
    done = subprocess.run(
        [sys.executable, "-m", "tidegate", "gc", "--data-dir", str(server.data_dir), "--json",
         "--grace-seconds", "0"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sha256(layer) in json.loads(done.stdout)["blobs_removed"]
    keys = weed.keys("reg/blobs/")
    assert blob_key(sha256(layer)) not in keys
    assert blob_key(sha256(body)) not in keys


def _error(answer: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = answer.json()["errors"][0]
    return error


def test_an_outage_is_503_and_recovers(server: TidegateServer, weed: SeaweedS3) -> None:
    """Last in the module: the store goes away and comes back on the same port and data."""
    ecr = server.ecr()
    with httpx.Client(base_url=server.url, auth=server.access_key(), timeout=30) as v2:
        assert v2.get("/v2/s3/app/manifests/v1").status_code == 200
        # Any registry change drops every process's cached manifest reads (the generation
        # row), so the reads below must go to the store that is down.
        ecr.create_repository(repositoryName="s3/after-the-cache")
        weed.kill()
        try:
            r = v2.get("/v2/s3/app/manifests/v1")
            assert r.status_code == 503
            assert _error(r)["code"] == "UNAVAILABLE"
            assert "blob store" in _error(r)["message"]
            data = b"pushed during the outage"
            r = v2.post("/v2/s3/app/blobs/uploads/", params={"digest": sha256(data)}, content=data)
            assert r.status_code == 503
            assert _error(r)["code"] == "UNAVAILABLE"
            with pytest.raises(ClientError) as refused:
                ecr.batch_get_image(repositoryName="s3/app", imageIds=[{"imageTag": "v1"}])
            assert refused.value.response["Error"]["Code"] == "ServerException"
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        finally:
            weed.start()
        assert v2.get("/v2/s3/app/manifests/v1").status_code == 200
        r = v2.post("/v2/s3/app/blobs/uploads/", params={"digest": sha256(data)}, content=data)
        assert r.status_code == 201
        got = ecr.batch_get_image(repositoryName="s3/app", imageIds=[{"imageTag": "v1"}])
        assert len(got["images"]) == 1
