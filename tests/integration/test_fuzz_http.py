"""Property-based fuzzing of every numeric, paging, document and credential input, through a
real server on loopback: each answer is in the API's vocabulary (OCI envelope on /v2/, a
modeled `__type` on the ECR API, `{"error", "code"}` on /api/) or a valid result — never a
500, never a hang. One server serves the whole module; its log must hold no traceback.

The `@example`s are inputs that answered 500 before their fix (docs/reliability.md).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.integration.conftest import image_manifest, push_blob, put_manifest, sha256
from tests.support.fuzz import (
    HTTP_TIMEOUT,
    JSON_TEXT,
    JSON_VALUE,
    NUMBER_TEXT,
    assert_api_answer,
    assert_ecr_answer,
    assert_oci_answer,
    ecr_call,
    fuzz,
    header_value,
    nested,
    next_tokens,
    tracebacks,
)
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.property, pytest.mark.slow]

REPO = "fuzz/app"
TAGS = [f"t{i}" for i in range(12)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    data = tmp_path_factory.mktemp("fuzz-http") / "data"
    env = {
        "TIDEGATE_ANONYMOUS_ACCESS": "push",
        # Thousands of deliberately wrong credentials must not lock the test's own key out.
        "TIDEGATE_SIGNIN_MAX_FAILURES": "100000000",
        "TIDEGATE_SIGNIN_MAX_FAILURES_PER_ADDRESS": "100000000",
        "TIDEGATE_WORKERS": "1",
    }
    with TidegateServer(data, env=env) as srv:
        with httpx.Client(base_url=srv.url, timeout=HTTP_TIMEOUT) as c:
            for i, tag in enumerate(TAGS):
                body = image_manifest(c, REPO, [f"layer {i}".encode()])
                assert put_manifest(c, REPO, tag, body).status_code == 201
            body = image_manifest(c, "fuzz/docs", [b"layer 0"], config=b"garbage config")
            assert put_manifest(c, "fuzz/docs", "base", body).status_code == 201
            for i in range(5):
                body = image_manifest(c, f"fuzz/other{i}", [b"x"])
                assert put_manifest(c, f"fuzz/other{i}", "v1", body).status_code == 201
        yield srv
        with httpx.Client(base_url=srv.url, timeout=HTTP_TIMEOUT) as c:
            assert c.get("/v2/").status_code in (200, 401)
    found = tracebacks(srv.log())
    assert not found, "\n".join(found)


@pytest.fixture(scope="module")
def c(server: TidegateServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT) as client:
        yield client


def basic(key_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()


# --- /v2/ paging -------------------------------------------------------------------------


@fuzz(240)
@given(n=st.none() | NUMBER_TEXT, last=st.none() | st.text(max_size=40), path=st.sampled_from(
    [f"/v2/{REPO}/tags/list", "/v2/_catalog"]
))  # fmt: skip
@example(n="²", last=None, path="/v2/_catalog")
def test_v2_page_parameters(c: httpx.Client, n: str | None, last: str | None, path: str) -> None:
    query = []
    if n is not None:
        query.append("n=" + quote(n, safe=""))
    if last is not None:
        query.append("last=" + quote(last, safe=""))
    r = c.get(path + ("?" + "&".join(query) if query else ""))
    assert_oci_answer(r)
    if r.status_code == 200:
        items = r.json()["tags" if "tags" in path else "repositories"]
        assert isinstance(items, list)
        if n is not None and n.isascii() and n.isdigit():
            assert len(items) <= int(n)
            if last is None and 0 < int(n) < len(TAGS) and "tags" in path:
                assert len(items) == int(n)
                assert 'rel="next"' in r.headers["Link"]


@fuzz(120)
@given(raw=st.binary(max_size=40), name=st.sampled_from(["n", "last", "n[]", "N"]))
@example(raw=b"\n", name="n")
def test_v2_page_parameters_raw_bytes(c: httpx.Client, raw: bytes, name: str) -> None:
    # Bytes that are not UTF-8 once percent-decoded.
    r = c.get(f"/v2/{REPO}/tags/list?{name}={quote_from_bytes(raw, safe='')}")
    assert_oci_answer(r)


# --- /v2/ blob ranges and upload ranges --------------------------------------------------


@fuzz(160)
@given(header=st.one_of(
    st.builds(lambda a, b: f"bytes={a}-{b}", NUMBER_TEXT, NUMBER_TEXT),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
))  # fmt: skip
def test_blob_range_header(c: httpx.Client, header: str) -> None:
    digest = push_blob(c, REPO, b"0123456789" * 10)
    r = c.get(f"/v2/{REPO}/blobs/{digest}", headers={b"Range": header_value(header)})
    assert_oci_answer(r)
    if r.status_code == 206:
        assert 0 < len(r.content) <= 100


@fuzz(120)
@given(header=st.one_of(
    st.builds(lambda a, b: f"{a}-{b}", NUMBER_TEXT, NUMBER_TEXT),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
), body=st.binary(max_size=16))  # fmt: skip
def test_upload_content_range(c: httpx.Client, header: str, body: bytes) -> None:
    location = c.post(f"/v2/{REPO}/blobs/uploads/").headers["Location"]
    r = c.patch(location, content=body, headers={b"Content-Range": header_value(header)})
    assert_oci_answer(r)
    r = c.put(location, params={"digest": sha256(body)}, content=b"")
    assert_oci_answer(r)


@fuzz(200)
@given(
    params=st.dictionaries(
        st.sampled_from(["mount", "from", "digest"]),
        st.sampled_from(["sha256:" + "0" * 64, REPO, "fuzz/other0", "sha256:", "md5:x"])
        | NUMBER_TEXT,
        max_size=3,
    ),
    body=st.binary(max_size=32),
)
def test_upload_start_parameters(c: httpx.Client, params: dict[str, str], body: bytes) -> None:
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    r = c.post(f"/v2/{REPO}/blobs/uploads/?{query}", content=body)
    assert_oci_answer(r)


@fuzz(120)
@given(
    digest=st.sampled_from(["sha256:" + "0" * 64, "sha256:", "x"]) | st.text(max_size=80),
    artifact_type=st.none() | NUMBER_TEXT,
)
@example(digest="\n0", artifact_type=None)  # missed the route: a plain-text 404
def test_referrers_parameters(c: httpx.Client, digest: str, artifact_type: str | None) -> None:
    query = "" if artifact_type is None else f"?artifactType={quote(artifact_type, safe='')}"
    r = c.get(f"/v2/{REPO}/referrers/{quote(digest, safe=':')}{query}")
    assert_oci_answer(r)


# --- /v2/ manifests ------------------------------------------------------------------------

MEDIA = st.sampled_from(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/json",
        "",
        "text/plain; charset=utf-8",
    ]
)


def descriptors(digests: list[str]) -> st.SearchStrategy[Any]:
    descriptor = st.fixed_dictionaries(
        {},
        optional={
            "mediaType": MEDIA | JSON_VALUE,
            "digest": st.sampled_from(digests) | st.text(max_size=80) | JSON_VALUE,
            "size": st.sampled_from([0, 7, 2**63 - 1, 2**63, 2**64, -1, 1.5, True]) | JSON_VALUE,
            "platform": JSON_VALUE,
            "annotations": JSON_VALUE,
            "artifactType": JSON_VALUE,
        },
    )
    return descriptor | JSON_VALUE


@st.composite
def manifest_documents(draw: st.DrawFn, digests: list[str]) -> bytes:
    doc = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "schemaVersion": st.just(2) | JSON_VALUE,
                "mediaType": MEDIA | JSON_VALUE,
                "config": descriptors(digests),
                "layers": st.lists(descriptors(digests), max_size=3) | JSON_VALUE,
                "manifests": st.lists(descriptors(digests), max_size=3) | JSON_VALUE,
                "subject": descriptors(digests),
                "annotations": JSON_VALUE,
                "artifactType": JSON_VALUE,
            },
        )
    )
    return json.dumps(doc).encode()


@pytest.fixture(scope="module")
def digests(c: httpx.Client) -> list[str]:
    return [push_blob(c, REPO, b"layer 0"), push_blob(c, REPO, b"garbage config")]


@fuzz(300)
@given(data=st.data(), media=MEDIA, ref=st.sampled_from(["fz", "sha256:" + "0" * 64, "a" * 200]))
def test_v2_manifest_bodies(
    c: httpx.Client, digests: list[str], data: st.DataObject, media: str, ref: str
) -> None:
    body = data.draw(manifest_documents(digests) | JSON_TEXT.map(str.encode), label="body")
    r = put_manifest(c, "fuzz/manifests", ref, body, media)
    assert_oci_answer(r)
    if r.status_code == 201:
        got = c.get(f"/v2/fuzz/manifests/manifests/{r.headers['Docker-Content-Digest']}")
        assert got.content == body


# --- ECR paging and numbers ----------------------------------------------------------------

PAGED: dict[str, dict[str, Any]] = {
    "DescribeRepositories": {},
    "ListImages": {"repositoryName": REPO},
    "DescribeImages": {"repositoryName": REPO},
    "DescribeImageScanFindings": {"repositoryName": REPO, "imageId": {"imageTag": "t0"}},
    "GetLifecyclePolicyPreview": {"repositoryName": REPO},
}


@fuzz(400)
@given(
    action=st.sampled_from(sorted(PAGED)),
    max_results=st.none() | JSON_VALUE | st.integers(),
    token=st.none() | next_tokens() | JSON_VALUE,
)
@example(
    action="ListImages",
    max_results=None,
    token=base64.urlsafe_b64encode(
        b'{"op": "ListImages", "offset": 100000000000000000000}'
    ).decode(),
)
@example(action="ListImages", max_results=None,
         token=base64.urlsafe_b64encode(nested(5000).encode()).decode())  # fmt: skip
def test_ecr_paging(
    server: TidegateServer, c: httpx.Client, action: str, max_results: Any, token: Any
) -> None:
    body = dict(PAGED[action])
    if max_results is not None:
        body["maxResults"] = max_results
    if token is not None:
        body["nextToken"] = token
    r = ecr_call(server, c, action, body)
    assert_ecr_answer(r)


@fuzz(120)
@given(first=JSON_VALUE | st.integers(), last=JSON_VALUE | st.integers())
def test_ecr_layer_part_numbers(
    server: TidegateServer, c: httpx.Client, first: Any, last: Any
) -> None:
    r = ecr_call(server, c, "InitiateLayerUpload", {"repositoryName": REPO})
    assert r.status_code == 200, r.text
    upload = r.json()["uploadId"]
    part = {
        "repositoryName": REPO, "uploadId": upload, "partFirstByte": first,
        "partLastByte": last, "layerPartBlob": base64.b64encode(b"abc").decode(),
    }  # fmt: skip
    assert_ecr_answer(ecr_call(server, c, "UploadLayerPart", part))


# --- ECR documents carried in strings --------------------------------------------------------

DOCUMENTS = {
    "PutImage": ("imageManifest", {"repositoryName": "fuzz/docs", "imageTag": "d"}),
    "SetRepositoryPolicy": ("policyText", {"repositoryName": REPO}),
    "PutLifecyclePolicy": ("lifecyclePolicyText", {"repositoryName": REPO}),
    "StartLifecyclePolicyPreview": ("lifecyclePolicyText", {"repositoryName": REPO}),
}


@fuzz(300)
@given(action=st.sampled_from(sorted(DOCUMENTS)), text=JSON_TEXT)
@example(action="PutImage", text=nested(5000))
@example(action="SetRepositoryPolicy", text=nested(3000))
@example(action="PutLifecyclePolicy", text=nested(3000, "{"))
@example(action="StartLifecyclePolicyPreview", text=nested(3000))
def test_ecr_documents_in_strings(
    server: TidegateServer, c: httpx.Client, action: str, text: str
) -> None:
    member, base = DOCUMENTS[action]
    r = ecr_call(server, c, action, {**base, member: text})
    assert_ecr_answer(r)


@fuzz(200)
@given(data=st.data(), media=st.none() | MEDIA)
def test_ecr_put_image_documents(
    server: TidegateServer,
    c: httpx.Client,
    digests: list[str],
    data: st.DataObject,
    media: str | None,
) -> None:
    body = data.draw(manifest_documents(digests), label="manifest").decode()
    params = {"repositoryName": "fuzz/docs", "imageManifest": body, "imageTag": "put"}
    if media is not None:
        params["imageManifestMediaType"] = media
    assert_ecr_answer(ecr_call(server, c, "PutImage", params))


@fuzz(120)
@given(body=JSON_TEXT | st.binary(max_size=100).map(lambda b: b.decode("latin-1")))
def test_ecr_whole_bodies(server: TidegateServer, c: httpx.Client, body: str) -> None:
    r = ecr_call(server, c, "DescribeRepositories", body.encode("utf-8", "surrogatepass"))
    assert_ecr_answer(r)


# --- /api/ parameters ------------------------------------------------------------------------


@fuzz(240)
@given(
    path=st.sampled_from(["/api/findings", "/api/usage", "/api/status"]),
    params=st.dictionaries(
        st.sampled_from(
            ["limit", "offset", "groupBy", "severity", "fixAvailable", "q", "repository",
             "status", "month", "nextToken"]
        ),
        NUMBER_TEXT | st.text(max_size=30),
        max_size=4,
    ),
)  # fmt: skip
@example(path="/api/findings", params={"limit": "²"})
def test_api_parameters(
    server: TidegateServer, c: httpx.Client, path: str, params: dict[str, str]
) -> None:
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    r = c.get(f"{path}?{query}", headers={"Authorization": basic(*server.access_key())})
    assert_api_answer(r)


# --- credentials -----------------------------------------------------------------------------

HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=120,
)


@st.composite
def authorization_headers(draw: st.DrawFn, key_id: str) -> bytes:
    user = draw(st.sampled_from([key_id, "AWS", "", "x" * 300]) | st.text(max_size=30))
    secret = draw(
        st.text(max_size=60)
        | st.builds(lambda k, e, m: f"tg1.{k}.{e}.{m}", st.sampled_from([key_id, ""]),
                    NUMBER_TEXT, st.text(max_size=50))
    )  # fmt: skip
    scheme = draw(st.sampled_from(["Basic", "basic", "BASIC", "Bearer", "Digest", ""]))
    token = base64.b64encode(f"{user}:{secret}".encode("utf-8", "surrogatepass")).decode()
    value = draw(st.sampled_from([f"{scheme} {token}", f"{scheme} {secret}"]) | HEADER_TEXT)
    return header_value(value)


@fuzz(300)
@given(data=st.data(), path=st.sampled_from(["/v2/", f"/v2/{REPO}/tags/list", "/api/status"]))
@example(data=None, path="/v2/")  # a real key id with a non-ASCII secret
def test_basic_and_token_credentials(
    server: TidegateServer, c: httpx.Client, data: st.DataObject | None, path: str
) -> None:
    key_id, _secret = server.access_key()
    if data is None:
        header = basic(key_id, "sécret").encode()
    else:
        header = data.draw(authorization_headers(key_id), label="authorization")
    r = c.get(path, headers={b"Authorization": header})
    assert r.status_code in (200, 401, 429), (r.status_code, r.text[:300])
    if r.status_code == 401:
        assert r.headers["WWW-Authenticate"].startswith("Basic realm=")
        if path.startswith("/v2/"):
            assert_oci_answer(r)
        else:
            assert_api_answer(r)


@st.composite
def sigv4_headers(draw: st.DrawFn, key_id: str) -> dict[str, bytes]:
    part = st.text(max_size=20) | st.sampled_from(["", "/", "aws4_request", "ecr", "us-east-1"])
    date = draw(st.sampled_from(["20260101", "99999999", "²0260101", ""]) | part)
    credential = "/".join(
        [draw(st.sampled_from([key_id, "AKIA"]) | part), date, draw(part), draw(part),
         draw(st.sampled_from(["aws4_request"]) | part)]
    )  # fmt: skip
    signed = draw(st.sampled_from(["host;x-amz-date", "host", ";", "x" * 200]) | part)
    signature = draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64) | part)
    auth = draw(
        st.sampled_from(
            [
                f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed}, "
                f"Signature={signature}",
                f"AWS4-HMAC-SHA256 Credential={credential},SignedHeaders={signed},"
                f"Signature={signature}",
            ]
        )
        | HEADER_TEXT
    )
    amz_date = draw(
        st.sampled_from(["20260101T000000Z", "99999999T999999Z", "", "2026０１01T000000Z"])
        | HEADER_TEXT
    )
    headers = {"Authorization": auth, "X-Amz-Date": amz_date}
    if draw(st.booleans()):
        headers["X-Amz-Content-SHA256"] = draw(HEADER_TEXT | st.just("UNSIGNED-PAYLOAD"))
    return {k: header_value(v) for k, v in headers.items()}


@fuzz(300)
@given(data=st.data())
def test_sigv4_fields(server: TidegateServer, c: httpx.Client, data: st.DataObject) -> None:
    key_id, _ = server.access_key()
    headers = data.draw(sigv4_headers(key_id), label="headers")
    headers = {
        **headers,
        "Content-Type": b"application/x-amz-json-1.1",
        "X-Amz-Target": b"AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
    }
    r = c.post("/", content=b"{}", headers={k.encode(): v for k, v in headers.items()})
    assert_ecr_answer(r)
    assert r.status_code in (400, 403, 429), r.text


def test_fuzz_server_still_serves(server: TidegateServer, c: httpx.Client) -> None:
    assert c.get(f"/v2/{REPO}/tags/list").json()["tags"] == sorted(TAGS)
    r = ecr_call(server, c, "DescribeRepositories", {})
    assert r.status_code == 200
    assert os.path.isdir(server.data_dir)


@fuzz(120)
@given(
    path=st.text(max_size=40).map(lambda t: quote(t, safe="/")),
    method=st.sampled_from(["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"]),
    tail=st.sampled_from(["", "/tags/list", "/manifests/x", "/blobs/uploads/", "/referrers/x"]),
)
@example(path="_catalog%0A", method="GET", tail="")
@example(path="%0A", method="GET", tail="")
def test_v2_any_path(c: httpx.Client, path: str, method: str, tail: str) -> None:
    r = c.request(method, f"/v2/{path}{tail}")
    assert_oci_answer(r)
    if path.endswith("%0A") and not tail:
        assert r.status_code == 404
