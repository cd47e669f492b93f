"""AWS Signature Version 4 verification for the ECR API (header-signed requests).

The server rebuilds the canonical request from what arrived, derives the signing key from
the stored secret and the credential scope, and compares signatures in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60

_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)


class SignatureProblem(Exception):
    """Why a request's signature was refused; `kind` names the AWS error to send."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class ParsedAuthorization:
    """The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def parse_authorization(header: str | None) -> ParsedAuthorization:
    """Split the header; missing → MissingAuthenticationToken, malformed → IncompleteSignature."""
    if not header:
        raise SignatureProblem(
            "MissingAuthenticationTokenException", "Missing Authentication Token"
        )
    match = _AUTH_RE.match(header.strip())
    if match is None:
        raise SignatureProblem(
            "IncompleteSignatureException",
            f"Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            f"with algorithm {ALGORITHM}.",
        )
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SignatureProblem(
            "IncompleteSignatureException",
            "Credential should be scoped to a valid region and service: "
            "<key>/<yyyymmdd>/<region>/<service>/aws4_request",
        )
    return ParsedAuthorization(
        access_key_id=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        signed_headers=tuple(match["signed"].split(";")),
        signature=match["signature"],
    )


def check_time(amz_date: str | None, scope_date: str, now: float) -> None:
    """The request time must parse, agree with the scope date and be within 15 minutes."""
    if not amz_date:
        raise SignatureProblem(
            "IncompleteSignatureException", "Authorization requires the X-Amz-Date header."
        )
    try:
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureProblem(
            "IncompleteSignatureException", f"X-Amz-Date {amz_date!r} is not yyyymmddThhmmssZ."
        ) from None
    if amz_date[:8] != scope_date:
        raise SignatureProblem(
            "InvalidSignatureException",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{scope_date}' != '{amz_date[:8]}'",
        )
    skew = when.timestamp() - now
    if abs(skew) > MAX_SKEW_SECONDS:
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
        # The AWS wording botocore and the CLI recognise as clock skew.
        raise SignatureProblem(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {stamp} ({stamp} - 15 min.)"
            if skew < 0
            else f"Signature not yet current: {amz_date} is still later than {stamp} "
            f"({stamp} + 15 min.)",
        )


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    body: bytes,
) -> str:
    """The SigV4 canonical request for what arrived (`headers` keyed by lower-case name)."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    canonical_query = "&".join(
        f"{_quote(k)}={_quote(v)}" for k, v in sorted((k, v) for k, v in pairs)
    )
    lines = [f"{name}:{' '.join(headers.get(name, '').split())}" for name in signed_headers]
    payload = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    return "\n".join(
        [
            method,
            _quote(path or "/", safe="/~"),
            canonical_query,
            "\n".join(lines) + "\n",
            ";".join(signed_headers),
            payload,
        ]
    )


def expected_signature(
    secret: str, auth: ParsedAuthorization, amz_date: str, canonical: str
) -> str:
    """The hex signature the client should have computed with `secret`."""
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, auth.scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + secret).encode()
    for part in (auth.date, auth.region, auth.service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def verify_signature(secret: str, auth: ParsedAuthorization, amz_date: str, canonical: str) -> None:
    """Raise InvalidSignatureException unless the signature matches (constant-time compare)."""
    wanted = expected_signature(secret, auth, amz_date, canonical)
    if not hmac.compare_digest(wanted, auth.signature):
        raise SignatureProblem(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.",
        )


def _quote(text: str, safe: str = "~") -> str:
    return urllib.parse.quote(text, safe=safe)
