"""Every `/v2/` endpoint and error case of the OCI distribution spec v1.1, over raw HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import (
    OCI_INDEX,
    OCI_MANIFEST,
    error_code,
    image_manifest,
    push_blob,
    put_manifest,
    sha256,
)

pytestmark = pytest.mark.integration

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def test_base_endpoint(client: httpx.Client) -> None:
    r = client.get("/v2/")
    assert r.status_code == 200
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"


# -- blobs: monolithic and single-POST uploads ---------------------------------------------


def test_post_then_put_monolithic(client: httpx.Client) -> None:
    data = os.urandom(1000)
    r = client.post("/v2/conf/mono/blobs/uploads/")
    assert r.status_code == 202
    location = r.headers["Location"]
    assert r.headers["Docker-Upload-UUID"]
    r = client.put(location, params={"digest": sha256(data)}, content=data)
    assert r.status_code == 201
    assert r.headers["Docker-Content-Digest"] == sha256(data)
    got = client.get(r.headers["Location"])
    assert got.status_code == 200
    assert got.content == data


def test_single_post_with_digest(client: httpx.Client) -> None:
    data = b"single post"
    digest = push_blob(client, "conf/single", data)
    head = client.head(f"/v2/conf/single/blobs/{digest}")
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(data))
    assert head.headers["Docker-Content-Digest"] == digest


def test_wrong_digest_leaves_nothing(client: httpx.Client, blob_dir: Path) -> None:
    data = b"the real bytes"
    wrong = sha256(b"other bytes")
    r = client.post("/v2/conf/bad/blobs/uploads/")
    location = r.headers["Location"]
    r = client.put(location, params={"digest": wrong}, content=data)
    assert r.status_code == 400
    assert error_code(r) == "DIGEST_INVALID"
    assert client.head(f"/v2/conf/bad/blobs/{wrong}").status_code == 404
    assert client.head(f"/v2/conf/bad/blobs/{sha256(data)}").status_code == 404
    assert error_code(client.get(location)) == "BLOB_UPLOAD_UNKNOWN"
    assert not list((blob_dir / "uploads").iterdir())
    stored = {p.name for p in (blob_dir / "blobs").rglob("*") if p.is_file()}
    assert sha256(data).split(":")[1] not in stored


def test_malformed_digest(client: httpx.Client) -> None:
    r = client.post("/v2/conf/bad/blobs/uploads/", params={"digest": "sha256:xyz"}, content=b"x")
    assert r.status_code == 400
    assert error_code(r) == "DIGEST_INVALID"
    r = client.post("/v2/conf/bad/blobs/uploads/")
    r = client.put(r.headers["Location"], content=b"no digest")
    assert error_code(r) == "DIGEST_INVALID"


def test_content_length_mismatch_is_size_invalid(open_server: object) -> None:
    # httpx refuses to send a lying Content-Length, so speak HTTP/1.1 on a raw socket.
    import socket

    from tests.support.server import TidegateServer

    assert isinstance(open_server, TidegateServer)
    data = b"0123456789"
    with socket.create_connection(("127.0.0.1", open_server.port)) as sock:
        request = (
            f"POST /v2/conf/size/blobs/uploads/?digest={sha256(data)} HTTP/1.1\r\n"
            f"Host: {open_server.host}\r\nContent-Length: 20\r\nConnection: close\r\n\r\n"
        ).encode() + data
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    status_line = reply.split(b"\r\n", 1)[0]
    # Either the server rejects the short body (400 SIZE_INVALID) or the HTTP layer does.
    assert b" 201 " not in status_line
    r = httpx.head(f"{open_server.url}/v2/conf/size/blobs/{sha256(data)}")
    assert r.status_code == 404


# -- blobs: chunked uploads ----------------------------------------------------------------


def test_chunked_upload_with_status_and_out_of_order(client: httpx.Client) -> None:
    data = os.urandom(300_000)
    chunks = [data[:100_000], data[100_000:200_000], data[200_000:]]
    r = client.post("/v2/conf/chunked/blobs/uploads/")
    location = r.headers["Location"]
    offset = 0
    for chunk in chunks[:2]:
        end = offset + len(chunk) - 1
        r = client.patch(
            location,
            content=chunk,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{end}",
                "Content-Length": str(len(chunk)),
            },
        )
        assert r.status_code == 202, r.text
        assert r.headers["Range"] == f"0-{end}"
        location = r.headers["Location"]
        offset = end + 1
    status = client.get(location)
    assert status.status_code == 204
    assert status.headers["Range"] == f"0-{offset - 1}"
    # A chunk that does not start at the current offset is refused and changes nothing.
    r = client.patch(
        location,
        content=chunks[2],
        headers={"Content-Range": f"{offset + 10}-{offset + 9 + len(chunks[2])}"},
    )
    assert r.status_code == 416
    assert client.get(location).headers["Range"] == f"0-{offset - 1}"
    r = client.put(
        location,
        params={"digest": sha256(data)},
        content=chunks[2],
        headers={"Content-Range": f"{offset}-{len(data) - 1}"},
    )
    assert r.status_code == 201, r.text
    assert client.get(f"/v2/conf/chunked/blobs/{sha256(data)}").content == data


def test_streamed_patch_without_content_range(client: httpx.Client) -> None:
    data = os.urandom(50_000)
    r = client.post("/v2/conf/stream/blobs/uploads/")

    def body() -> object:
        yield data[:20_000]
        yield data[20_000:]

    r = client.patch(r.headers["Location"], content=body())  # type: ignore[arg-type]
    assert r.status_code == 202
    assert r.headers["Range"] == f"0-{len(data) - 1}"
    r = client.put(r.headers["Location"], params={"digest": sha256(data)})
    assert r.status_code == 201


def test_cancel_upload(client: httpx.Client) -> None:
    r = client.post("/v2/conf/cancel/blobs/uploads/")
    location = r.headers["Location"]
    assert client.delete(location).status_code == 204
    r = client.get(location)
    assert r.status_code == 404
    assert error_code(r) == "BLOB_UPLOAD_UNKNOWN"
    assert error_code(client.delete(location)) == "BLOB_UPLOAD_UNKNOWN"
    r = client.patch("/v2/conf/cancel/blobs/uploads/not-a-uuid", content=b"x")
    assert error_code(r) == "BLOB_UPLOAD_UNKNOWN"


# -- blobs: read, range, mount, delete -----------------------------------------------------


def test_blob_range_requests(client: httpx.Client) -> None:
    data = bytes(range(256)) * 40
    digest = push_blob(client, "conf/range", data)
    r = client.get(f"/v2/conf/range/blobs/{digest}", headers={"Range": "bytes=10-19"})
    assert r.status_code == 206
    assert r.content == data[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    r = client.get(f"/v2/conf/range/blobs/{digest}", headers={"Range": "bytes=-5"})
    assert r.content == data[-5:]
    r = client.get(f"/v2/conf/range/blobs/{digest}", headers={"Range": f"bytes={len(data)}-"})
    assert r.status_code == 416
    assert error_code(r) == "RANGE_INVALID"
    r = client.get(f"/v2/conf/range/blobs/{digest}", headers={"Range": "pages=1-2"})
    assert r.status_code == 416


def test_unknown_blob(client: httpx.Client) -> None:
    push_blob(client, "conf/unknown", b"x")
    r = client.get(f"/v2/conf/unknown/blobs/{sha256(b'never pushed')}")
    assert r.status_code == 404
    assert error_code(r) == "BLOB_UNKNOWN"


def test_cross_repository_mount(client: httpx.Client) -> None:
    data = b"shared layer"
    digest = push_blob(client, "conf/mount-src", data)
    r = client.post(
        "/v2/conf/mount-dst/blobs/uploads/", params={"mount": digest, "from": "conf/mount-src"}
    )
    assert r.status_code == 201
    assert r.headers["Location"] == f"/v2/conf/mount-dst/blobs/{digest}"
    assert client.get(f"/v2/conf/mount-dst/blobs/{digest}").content == data
    # A source that does not have the blob falls back to an ordinary upload session.
    other = sha256(b"not there")
    r = client.post(
        "/v2/conf/mount-dst/blobs/uploads/", params={"mount": other, "from": "conf/mount-src"}
    )
    assert r.status_code == 202
    assert r.headers["Location"].startswith("/v2/conf/mount-dst/blobs/uploads/")


def test_blob_delete(client: httpx.Client) -> None:
    digest = push_blob(client, "conf/delete-blob", b"to be deleted")
    assert client.delete(f"/v2/conf/delete-blob/blobs/{digest}").status_code == 202
    assert client.head(f"/v2/conf/delete-blob/blobs/{digest}").status_code == 404
    assert error_code(client.delete(f"/v2/conf/delete-blob/blobs/{digest}")) == "BLOB_UNKNOWN"


# -- manifests -----------------------------------------------------------------------------


def test_manifest_put_get_head_by_tag_and_digest(client: httpx.Client) -> None:
    body = image_manifest(client, "team/app/api", [b"layer-a", b"layer-b"])
    r = put_manifest(client, "team/app/api", "v1", body)
    assert r.status_code == 201, r.text
    digest = r.headers["Docker-Content-Digest"]
    assert digest == sha256(body)
    assert r.headers["Location"] == f"/v2/team/app/api/manifests/{digest}"
    for ref in ("v1", digest):
        got = client.get(f"/v2/team/app/api/manifests/{ref}", headers={"Accept": OCI_MANIFEST})
        assert got.status_code == 200
        assert got.content == body
        assert got.headers["Content-Type"] == OCI_MANIFEST
        assert got.headers["Docker-Content-Digest"] == digest
        head = client.head(f"/v2/team/app/api/manifests/{ref}")
        assert head.status_code == 200
        assert head.headers["Content-Length"] == str(len(body))
        assert head.headers["Docker-Content-Digest"] == digest


def test_manifest_accept_negotiation(client: httpx.Client) -> None:
    body = image_manifest(client, "conf/accept", [b"l"])
    put_manifest(client, "conf/accept", "v1", body)
    r = client.get("/v2/conf/accept/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    assert r.status_code == 404
    assert error_code(r) == "MANIFEST_UNKNOWN"
    r = client.get(
        "/v2/conf/accept/manifests/v1", headers={"Accept": f"{DOCKER_MANIFEST}, {OCI_MANIFEST}"}
    )
    assert r.status_code == 200
    assert client.get("/v2/conf/accept/manifests/v1", headers={"Accept": "*/*"}).status_code == 200


def test_docker_schema2_manifest_and_list(client: httpx.Client) -> None:
    name = "conf/docker"
    config = b'{"architecture":"arm64","os":"linux"}'
    layer = b"docker layer"
    doc = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(config),
            "digest": push_blob(client, name, config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(layer),
                "digest": push_blob(client, name, layer),
            }
        ],
    }
    body = json.dumps(doc).encode()
    r = put_manifest(client, name, "arm", body, DOCKER_MANIFEST)
    assert r.status_code == 201, r.text
    child = r.headers["Docker-Content-Digest"]
    listing = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_LIST,
            "manifests": [
                {
                    "mediaType": DOCKER_MANIFEST,
                    "size": len(body),
                    "digest": child,
                    "platform": {"architecture": "arm64", "os": "linux"},
                }
            ],
        }
    ).encode()
    r = put_manifest(client, name, "multi", listing, DOCKER_LIST)
    assert r.status_code == 201, r.text
    got = client.get(f"/v2/{name}/manifests/multi", headers={"Accept": DOCKER_LIST})
    assert got.headers["Content-Type"] == DOCKER_LIST
    assert got.content == listing
    # A child referenced by a list cannot be deleted from under it.
    r = client.delete(f"/v2/{name}/manifests/{child}")
    assert r.status_code == 409
    assert error_code(r) == "DENIED"


def test_oci_index_requires_children(client: httpx.Client) -> None:
    name = "conf/index"
    body = image_manifest(client, name, [b"x"])
    child = put_manifest(client, name, "amd64", body).headers["Docker-Content-Digest"]
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "size": len(body),
                "digest": child,
                "platform": {"architecture": "amd64", "os": "linux"},
            }
        ],
    }
    r = put_manifest(client, name, "multi", json.dumps(index).encode(), OCI_INDEX)
    assert r.status_code == 201
    index["manifests"].append(  # type: ignore[attr-defined]
        {"mediaType": OCI_MANIFEST, "size": 3, "digest": sha256(b"missing child")}
    )
    r = put_manifest(client, name, "broken", json.dumps(index).encode(), OCI_INDEX)
    assert r.status_code == 400
    assert error_code(r) == "MANIFEST_BLOB_UNKNOWN"


def test_manifest_errors(client: httpx.Client) -> None:
    name = "conf/errors"
    body = image_manifest(client, name, [b"y"])
    r = put_manifest(client, name, "v1", b"{not json")
    assert (r.status_code, error_code(r)) == (400, "MANIFEST_INVALID")
    r = put_manifest(client, name, "v1", b'{"schemaVersion": 1}')
    assert error_code(r) == "MANIFEST_INVALID"
    r = put_manifest(client, name, sha256(b"other"), body)
    assert error_code(r) == "DIGEST_INVALID"
    missing = json.loads(body)
    missing["layers"].append(
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "size": 4,
            "digest": sha256(b"gone"),
        }
    )
    r = put_manifest(client, name, "v1", json.dumps(missing).encode())
    assert (r.status_code, error_code(r)) == (400, "MANIFEST_BLOB_UNKNOWN")
    r = put_manifest(client, name, "bad:tag!", body)
    assert error_code(r) in ("TAG_INVALID", "DIGEST_INVALID")
    r = put_manifest(client, name, "-leading-dash", body)
    assert (r.status_code, error_code(r)) == (400, "TAG_INVALID")
    r = put_manifest(client, "Upper/Case", "v1", body)
    assert (r.status_code, error_code(r)) == (400, "NAME_INVALID")
    r = put_manifest(client, name, "huge", b" " * (4 * 1024 * 1024 + 1))
    assert r.status_code == 413
    assert error_code(r) == "SIZE_INVALID"
    r = client.get(f"/v2/{name}/manifests/never-pushed")
    assert (r.status_code, error_code(r)) == (404, "MANIFEST_UNKNOWN")
    r = client.get("/v2/no/such/repo/manifests/latest")
    assert (r.status_code, error_code(r)) == (404, "NAME_UNKNOWN")
    r = client.post(f"/v2/{name}/manifests/v1")
    assert (r.status_code, error_code(r)) == (405, "UNSUPPORTED")
    assert client.get("/v2/").status_code == 200  # still serving


def test_delete_manifest_by_tag_and_digest(client: httpx.Client) -> None:
    name = "conf/delete"
    body = image_manifest(client, name, [b"z"])
    digest = put_manifest(client, name, "a", body).headers["Docker-Content-Digest"]
    put_manifest(client, name, "b", body)
    assert client.delete(f"/v2/{name}/manifests/a").status_code == 202
    assert client.get(f"/v2/{name}/manifests/a").status_code == 404
    assert client.get(f"/v2/{name}/manifests/b").status_code == 200
    assert client.delete(f"/v2/{name}/manifests/{digest}").status_code == 202
    assert client.get(f"/v2/{name}/manifests/b").status_code == 404
    assert client.get(f"/v2/{name}/manifests/{digest}").status_code == 404
    assert client.get(f"/v2/{name}/tags/list").json()["tags"] == []


# -- listings ------------------------------------------------------------------------------


def test_tags_list_pagination(client: httpx.Client) -> None:
    name = "conf/tags"
    body = image_manifest(client, name, [b"t"])
    tags = [f"t{i:02d}" for i in range(7)]
    for tag in tags:
        assert put_manifest(client, name, tag, body).status_code == 201
    assert client.get(f"/v2/{name}/tags/list").json() == {"name": name, "tags": tags}
    seen: list[str] = []
    url = f"/v2/{name}/tags/list?n=3"
    while url:
        r = client.get(url)
        seen += r.json()["tags"]
        link = r.headers.get("Link")
        url = link.split(";")[0].strip("<>") if link else ""
    assert seen == tags
    r = client.get(f"/v2/{name}/tags/list", params={"n": 2, "last": "t04"})
    assert r.json()["tags"] == ["t05", "t06"]
    assert client.get(f"/v2/{name}/tags/list", params={"n": 0}).json()["tags"] == []


def test_catalog_pagination(client: httpx.Client) -> None:
    for i in range(3):
        push_blob(client, f"catalog/r{i}", b"c")
    full = client.get("/v2/_catalog").json()["repositories"]
    assert {"catalog/r0", "catalog/r1", "catalog/r2"} <= set(full)
    assert full == sorted(full)
    seen: list[str] = []
    url = "/v2/_catalog?n=2"
    while url:
        r = client.get(url)
        seen += r.json()["repositories"]
        link = r.headers.get("Link")
        url = link.split(";")[0].strip("<>") if link else ""
    assert seen == full


# -- referrers -----------------------------------------------------------------------------


def test_referrers_api(client: httpx.Client) -> None:
    name = "conf/referrers"
    subject_body = image_manifest(client, name, [b"subject layer"])
    subject = put_manifest(client, name, "v1", subject_body).headers["Docker-Content-Digest"]
    empty = b"{}"
    push_blob(client, name, empty)
    sbom_doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/spdx+json",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": sha256(empty),
            "size": 2,
        },
        "layers": [
            {
                "mediaType": "application/spdx+json",
                "digest": push_blob(client, name, b'{"spdx": true}'),
                "size": 14,
            }
        ],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(subject_body)},
        "annotations": {"org.example.kind": "sbom"},
    }
    sbom = json.dumps(sbom_doc).encode()
    r = put_manifest(client, name, sha256(sbom), sbom)
    assert r.status_code == 201
    assert r.headers["OCI-Subject"] == subject
    sig_doc = dict(sbom_doc, artifactType="application/vnd.dev.cosign.artifact.sig.v1+json")
    sig_doc["annotations"] = {"kind": "sig"}
    sig = json.dumps(sig_doc).encode()
    put_manifest(client, name, sha256(sig), sig)
    r = client.get(f"/v2/{name}/referrers/{subject}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == OCI_INDEX
    found = {m["digest"]: m for m in r.json()["manifests"]}
    assert set(found) == {sha256(sbom), sha256(sig)}
    assert found[sha256(sbom)]["artifactType"] == "application/spdx+json"
    assert found[sha256(sbom)]["annotations"] == {"org.example.kind": "sbom"}
    r = client.get(
        f"/v2/{name}/referrers/{subject}", params={"artifactType": "application/spdx+json"}
    )
    assert [m["digest"] for m in r.json()["manifests"]] == [sha256(sbom)]
    assert r.headers["OCI-Filters-Applied"] == "artifactType"
    r = client.get(f"/v2/{name}/referrers/{sha256(b'no subject')}")
    assert r.status_code == 200
    assert r.json()["manifests"] == []
    r = client.get(f"/v2/{name}/referrers/not-a-digest")
    assert error_code(r) == "DIGEST_INVALID"


# -- the distribution-spec conformance suite itself ------------------------------------------


def test_distribution_spec_conformance_suite(tmp_path: Path) -> None:
    """The OCI conformance binary (v1.1.1), all four workflows, against a real signed-in
    server: every spec it runs passes, and none is silently skipped."""
    import base64
    import subprocess
    import xml.etree.ElementTree as ET

    from tests.support.paths import OCI_CONFORMANCE
    from tests.support.server import TidegateServer

    assert OCI_CONFORMANCE.is_file(), f"conformance binary missing at {OCI_CONFORMANCE}"
    with TidegateServer(tmp_path / "data") as srv:
        token = srv.ecr().get_authorization_token()["authorizationData"][0]["authorizationToken"]
        user, password = base64.b64decode(token).decode().split(":", 1)
        report = tmp_path / "report"
        report.mkdir()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "OCI_ROOT_URL": srv.url,
            "OCI_NAMESPACE": "conformance/repo1",
            "OCI_CROSSMOUNT_NAMESPACE": "conformance/repo2",
            "OCI_USERNAME": user,
            "OCI_PASSWORD": password,
            "OCI_TEST_PULL": "1",
            "OCI_TEST_PUSH": "1",
            "OCI_TEST_CONTENT_DISCOVERY": "1",
            "OCI_TEST_CONTENT_MANAGEMENT": "1",
            "OCI_HIDE_SKIPPED_WORKFLOWS": "0",
            "OCI_DEBUG": "0",
            "OCI_REPORT_DIR": str(report),
        }
        run = subprocess.run(
            [str(OCI_CONFORMANCE), "-test.v"],
            cwd=report, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    junit = report / "junit.xml"
    assert junit.is_file(), run.stdout[-4000:] + run.stderr[-4000:]
    suites = ET.parse(junit).getroot()
    cases = list(suites.iter("testcase"))
    failed = [
        c.get("name", "?")
        for c in cases
        if c.find("failure") is not None or c.find("error") is not None
    ]
    skipped = [c.get("name", "?") for c in cases if c.find("skipped") is not None]
    assert failed == [], "\n".join(failed) + "\n" + run.stdout[-6000:]
    assert len(cases) - len(skipped) >= 75, (len(cases), skipped)
    assert run.returncode == 0, run.stdout[-4000:]
