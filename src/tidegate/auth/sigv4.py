"""AWS Signature Version 4 verification for the ECR API (header-signed requests).

The server rebuilds the canonical request from what arrived, derives the signing key from
the stored secret and the credential scope, and compares signatures in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

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


def payload_hash(headers: Mapping[str, str], body: bytes) -> str:
    """The SHA-256 of the body received; a sent `x-amz-content-sha256` must equal it.

    The header is never trusted: a captured signed request re-sent with another body would
    otherwise still verify (issue 15). `UNSIGNED-PAYLOAD` is refused for the same reason.
    """
    computed = hashlib.sha256(body).hexdigest()
    sent = headers.get("x-amz-content-sha256")
    if sent is not None and not hmac.compare_digest(
        sent.strip().lower().encode(), computed.encode()
    ):
        # S3's wording; JSON-protocol services answer signature faults as InvalidSignature.
        raise SignatureProblem(
            "InvalidSignatureException",
            "XAmzContentSHA256Mismatch: The provided 'x-amz-content-sha256' header does not "
            "match what was computed.",
        )
    return computed


@dataclass(frozen=True, slots=True)
class Received:
    """What arrived: the parts of an HTTP request a SigV4 signature covers."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


def _aws_request(received: Received, signed_headers: tuple[str, ...], amz_date: str) -> AWSRequest:
    """The request as botocore's signer sees it: only the headers the client signed."""
    headers = {name: received.headers.get(name, "") for name in signed_headers}
    headers.pop("x-amz-content-sha256", None)
    host = received.headers.get("host", "localhost")
    url = f"http://{host}{received.path or '/'}"
    if received.query:
        url += f"?{received.query}"
    request = AWSRequest(method=received.method, url=url, headers=headers, data=received.body)
    # botocore takes the payload hash from this header when present: make it ours, always.
    request.headers["X-Amz-Content-SHA256"] = payload_hash(received.headers, received.body)
    request.context["timestamp"] = amz_date
    return request


class _ServerSigner(SigV4Auth):  # type: ignore[misc]  # botocore is untyped
    """botocore's SigV4 signer, told exactly which headers the client signed."""

    def __init__(self, secret: str, auth: ParsedAuthorization) -> None:
        super().__init__(Credentials(auth.access_key_id, secret), auth.service, auth.region)
        self._names = auth.signed_headers

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        found = HTTPHeaders()
        for name in self._names:
            found[name] = request.headers.get(name, "")
        return found


def canonical_request(received: Received, auth: ParsedAuthorization, amz_date: str) -> str:
    """botocore's SigV4 canonical request for what arrived."""
    signer = _ServerSigner("", auth)
    return str(signer.canonical_request(_aws_request(received, auth.signed_headers, amz_date)))


def expected_signature(
    secret: str, auth: ParsedAuthorization, amz_date: str, received: Received
) -> str:
    """The hex signature the client should have computed with `secret` (botocore's code)."""
    request = _aws_request(received, auth.signed_headers, amz_date)
    signer = _ServerSigner(secret, auth)
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    return str(signer.signature(string_to_sign, request))


def verify_signature(
    secret: str, auth: ParsedAuthorization, amz_date: str, received: Received
) -> None:
    """Raise InvalidSignatureException unless the signature matches (constant-time, bytes)."""
    wanted = expected_signature(secret, auth, amz_date, received)
    if not hmac.compare_digest(wanted.encode(), auth.signature.encode()):
        raise SignatureProblem(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.",
        )
