"""SigV4 verification against requests signed by botocore itself, and registry tokens."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tidegate.auth import sigv4
from tidegate.auth.secrets_box import SecretBox, load_or_create_master_key
from tidegate.auth.sigv4 import SignatureProblem
from tidegate.auth.tokens import TokenIssuer
from tidegate.errors import Unauthorized

SECRET = "s3cr3tKEYs3cr3tKEYs3cr3tKEYs3cr3tKEY1234"


def signed(body: bytes, secret: str = SECRET, service: str = "ecr") -> dict[str, str]:
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:5000/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.ListImages",
        },
    )
    SigV4Auth(Credentials("AKIAEXAMPLE", secret), service, "us-east-2").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:5000"
    return headers


def check(headers: dict[str, str], body: bytes, secret: str = SECRET) -> None:
    auth = sigv4.parse_authorization(headers.get("authorization"))
    sigv4.check_time(headers["x-amz-date"], auth.date, time.time())
    received = sigv4.Received("POST", "/", "", headers, body)
    sigv4.verify_signature(secret, auth, headers["x-amz-date"], received)


def signed_with_payload_header(body: bytes) -> dict[str, str]:
    """Signed as S3-style clients do: `x-amz-content-sha256` sent and signed."""
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:5000/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest(),
        },
    )
    SigV4Auth(Credentials("AKIAEXAMPLE", SECRET), "ecr", "us-east-2").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:5000"
    return headers


def test_signed_payload_header_verifies_when_it_matches_the_body() -> None:
    body = b'{"repositoryName": "sigtest-a"}'
    headers = signed_with_payload_header(body)
    assert "x-amz-content-sha256" in headers["authorization"]
    check(headers, body)


def test_signed_payload_header_does_not_bind_another_body() -> None:
    """The issue-15 replay: the signed hash header re-sent with a different body."""
    headers = signed_with_payload_header(b'{"repositoryName": "sigtest-a"}')
    with pytest.raises(SignatureProblem) as info:
        check(headers, b'{"repositoryName": "sigtest-evil"}')
    assert info.value.kind == "InvalidSignatureException"
    assert "x-amz-content-sha256" in info.value.message


def test_unsigned_payload_is_refused() -> None:
    body = b"{}"
    headers = signed(body)
    headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    with pytest.raises(SignatureProblem, match="x-amz-content-sha256"):
        check(headers, body)


def test_non_ascii_signature_is_refused_not_crashing() -> None:
    body = b"{}"
    headers = signed(body)
    auth = sigv4.parse_authorization(headers["authorization"])
    bad = sigv4.ParsedAuthorization(
        auth.access_key_id, auth.date, auth.region, auth.service, auth.signed_headers, "é" * 64
    )
    with pytest.raises(SignatureProblem):
        sigv4.verify_signature(
            SECRET, bad, headers["x-amz-date"], sigv4.Received("POST", "/", "", headers, body)
        )


def test_botocore_signature_verifies() -> None:
    body = b'{"repositoryName": "x"}'
    check(signed(body), body)


def test_tampered_body_wrong_secret_and_missing_header_are_refused() -> None:
    body = b'{"repositoryName": "x"}'
    with pytest.raises(SignatureProblem) as info:
        check(signed(body), b'{"repositoryName": "y"}')
    assert info.value.kind == "InvalidSignatureException"
    with pytest.raises(SignatureProblem):
        check(signed(body, secret="wrong" + SECRET[5:]), body)
    with pytest.raises(SignatureProblem) as info:
        sigv4.parse_authorization(None)
    assert info.value.kind == "MissingAuthenticationTokenException"


def test_skew_beyond_15_minutes_is_refused() -> None:
    headers = signed(b"{}")
    auth = sigv4.parse_authorization(headers["authorization"])
    sigv4.check_time(headers["x-amz-date"], auth.date, time.time() + 14 * 60)
    with pytest.raises(SignatureProblem) as info:
        sigv4.check_time(headers["x-amz-date"], auth.date, time.time() + 16 * 60)
    assert "Signature expired" in info.value.message


def test_tokens_have_no_colon_and_expire(tmp_path: Path) -> None:
    box = SecretBox(load_or_create_master_key(tmp_path))
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    now = [1000.0]
    issuer = TokenIssuer(box.derive("t"), clock=lambda: now[0])
    token = issuer.issue("AKIAEXAMPLE")
    assert ":" not in token.password
    assert token.expires_at == 1000 + 12 * 3600
    assert issuer.verify(token.password) == "AKIAEXAMPLE"
    with pytest.raises(Unauthorized):
        issuer.verify(token.password[:-2] + "xx")
    now[0] += 12 * 3600
    with pytest.raises(Unauthorized):
        issuer.verify(token.password)


def test_secret_box_round_trip(tmp_path: Path) -> None:
    box = SecretBox(load_or_create_master_key(tmp_path))
    sealed = box.seal(SECRET)
    assert SECRET.encode() not in sealed
    assert box.open(sealed) == SECRET
    assert load_or_create_master_key(tmp_path) == load_or_create_master_key(tmp_path)
