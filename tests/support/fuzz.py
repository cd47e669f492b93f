"""Shared pieces of the fuzz tests: one Hypothesis profile, raw ECR calls, answer checks.

Every fuzz test asserts the same contract (issue 17): an answer in the API's own error
vocabulary or a valid result, never a 500, never a hang. The profile is derandomized and
keeps no example database, so CI runs the same examples every time; example counts are
small per test because each example against a server is a real HTTP round trip.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.server import TidegateServer

settings.register_profile(
    "fuzz",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile("fuzz")


def fuzz(max_examples: int) -> settings:
    """The fuzz profile with this many examples."""
    return settings(FUZZ, max_examples=max_examples)


HTTP_TIMEOUT = 20.0
"""An answer slower than this counts as a hang."""

# Error codes of the OCI distribution spec (plus TOOMANYREQUESTS, which registries send).
OCI_CODES = frozenset(
    {
        "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
        "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID",
        "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED",
        "TOOMANYREQUESTS", "RANGE_INVALID", "TAG_INVALID", "PAGINATION_NUMBER_INVALID",
    }
)  # fmt: skip

# Numbers as clients (and attackers) spell them: non-ASCII digits, signs, huge, exponents.
NUMBER_TEXT = st.one_of(
    st.sampled_from(
        [
            "", "0", "1", "-1", "+1", " 1", "1 ", "²", "٣", "١٠", "𝟗", "1e3", "0x10", "1.5",
            "NaN", "inf", "9" * 18, "9" * 19, "9" * 40, "00000000000000000000001", "1_000",
            "\x00", "%", "1,2",
        ]
    ),
    st.integers().map(str),
    st.text(max_size=30),
)  # fmt: skip

# JSON values of every kind for a member the model types as a number or a token.
JSON_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def nested(depth: int, kind: str = "[") -> str:
    """A JSON text nested `depth` deep: arrays, objects, or alternating."""
    if kind == "[":
        return "[" * depth + "]" * depth
    if kind == "{":
        return '{"a":' * depth + "1" + "}" * depth
    return '[{"a":' * (depth // 2) + "1" + "}]" * (depth // 2)


JSON_TEXT = st.one_of(
    st.builds(nested, st.integers(min_value=1, max_value=200_000), st.sampled_from("[{m")),
    JSON_VALUE.map(json.dumps),
    st.text(max_size=200),
)
"""A document sent as text: deep, valid but odd, or not JSON at all."""


def next_tokens() -> st.SearchStrategy[str]:
    """nextToken values: garbage, and well-formed base64 of crafted documents."""
    crafted = st.fixed_dictionaries(
        {"op": st.sampled_from(["DescribeRepositories", "ListImages", "DescribeImages", "x"])},
        optional={"offset": JSON_VALUE | st.integers(min_value=-(2**80), max_value=2**80)},
    ).map(lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode())
    deep = st.integers(min_value=500, max_value=50_000).map(
        lambda n: base64.urlsafe_b64encode(nested(n).encode()).decode()
    )
    return st.one_of(crafted, deep, st.text(max_size=100), NUMBER_TEXT)


def ecr_call(
    server: TidegateServer,
    client: httpx.Client,
    action: str,
    body: bytes | dict[str, Any],
    key: tuple[str, str] | None = None,
) -> httpx.Response:
    """POST one ECR call signed by hand: boto3 refuses to serialize what its model forbids."""
    raw_body = body if isinstance(body, bytes) else json.dumps(body).encode()
    key_id, secret = key or server.access_key()
    raw = AWSRequest(
        method="POST",
        url=server.url + "/",
        data=raw_body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AmazonEC2ContainerRegistry_V20150921.{action}",
        },
    )
    SigV4Auth(Credentials(key_id, secret), "ecr", "us-east-1").add_auth(raw)
    return client.post("/", content=raw_body, headers=dict(raw.headers.items()))


def tracebacks(log: str) -> list[str]:
    """The distinct exception lines of every traceback in a server log (the 500s' causes)."""
    found: list[str] = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("Traceback"):
            continue
        j = i + 1
        while j < len(lines) and (lines[j].startswith(" ") or lines[j] == ""):
            j += 1
        where = next((x.strip() for x in reversed(lines[i:j]) if x.strip().startswith("File")), "")
        cause = f"{lines[j] if j < len(lines) else '?'} at {where}"
        if cause not in found:
            found.append(cause)
    return found


def header_value(text: str) -> bytes:
    """`text` as a header value HTTP can carry: UTF-8, no controls, no outer whitespace.

    Anything else never reaches the application: clients refuse to send it and the HTTP
    server answers it itself.
    """
    kept = "".join(ch for ch in text if ch == "\t" or (ord(ch) >= 0x20 and ord(ch) != 0x7F))
    return kept.strip(" \t").encode("utf-8", "replace")


def assert_oci_answer(r: httpx.Response) -> None:
    """A /v2/ answer: success, or a 4xx with the OCI error envelope."""
    assert r.status_code < 500, (r.status_code, r.text[:500])
    if r.status_code >= 400 and r.request.method != "HEAD":
        errors = r.json()["errors"]
        assert errors, r.text
        assert errors[0]["code"] in OCI_CODES, r.text[:500]


def assert_ecr_answer(r: httpx.Response) -> None:
    """An ECR answer: 200 with a JSON object, or a 4xx whose `__type` is a modeled name."""
    assert r.status_code < 500, (r.status_code, r.text[:500])
    doc = r.json()
    assert isinstance(doc, dict)
    if r.status_code >= 400:
        kind = doc["__type"]
        assert isinstance(kind, str), doc
        assert kind.endswith("Exception"), doc
        assert kind != "ServerException", doc
        assert r.headers["x-amzn-ErrorType"] == kind


def assert_api_answer(r: httpx.Response) -> None:
    """An /api/ answer: 200 with JSON, or a 4xx `{"error": ..., "code": ...}`."""
    assert r.status_code < 500, (r.status_code, r.text[:500])
    doc = r.json()
    if r.status_code >= 400:
        assert isinstance(doc["error"], str), doc
        assert isinstance(doc["code"], str), doc
