"""The audit trail: every mutating request and every refusal, in the metadata DB and the log.

`AuditMiddleware` is the one hook: it sits in front of the ECR API (`POST /`), `/v2/` and
the Inspector2 REST-JSON routes (matched by a route function the app hands it, since auth
may not import the inspector package), classifies each request (interface, action,
resource, the credentials it claims), applies the failed-sign-in limiter, and records the
outcome once the response has gone out. Being in front of the APIs, it needs no call
inside their handlers or the authorizers.

Which requests are recorded: ECR and Inspector2 operations other than reads (Describe*,
List*, Get*, BatchGet*, BatchCheck*; GetAuthorizationToken is recorded, it issues a
credential), `/v2/` POST/PUT/PATCH/DELETE, and any request refused for its credentials or
permissions, except the credential-less 401 challenge every docker/skopeo client provokes
first.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidegate import schema as t
from tidegate.auth.ratelimit import SignInLimiter
from tidegate.config import Settings
from tidegate.db import reading
from tidegate.inputs import load_json

log = logging.getLogger("tidegate.audit")

DAY = 86400.0
ALLOWED, DENIED, FAILED = "allowed", "denied", "failed"
RESULTS = (ALLOWED, DENIED, FAILED)
INTERFACES = ("ecr", "v2", "inspector2", "console")
# ECR and Inspector2 errors (the same names in both) that mean "who are you?" (a failed
# sign-in) or "not you" (a refusal).
SIGN_IN_ERRORS = frozenset(
    {"UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException"}
)
REFUSAL_ERRORS = SIGN_IN_ERRORS | {
    "MissingAuthenticationTokenException",
    "AccessDeniedException",
    "ThrottlingException",
}
_READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "BatchCheck")
_CAPTURE = 64 * 1024  # request/response bytes kept to find the resource and error code
_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/")
_REPO_RE = re.compile(rb'"repositoryName"\s*:\s*"([^"\\]{1,256})"')
_ARN_MEMBERS = ("resourceArn", "arn", "filterArn")  # where an Inspector2 request names one
# (method, percent-decoded path) -> the Inspector2 operation and its URI labels, or None.
InspectorRoute = Callable[[str, str], tuple[str, Mapping[str, str]] | None]
# The interfaces whose errors arrive as x-amzn-ErrorType (their throttle is in `_throttle`).
_AWS_JSON = frozenset({"ecr", "inspector2"})


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: float
    principal: str | None
    access_key_id: str | None
    action: str
    resource: str | None
    result: str
    error: str | None
    source_ip: str | None
    interface: str

    def row(self) -> dict[str, Any]:
        """The `audit_events` row (a flat record: no recursive `asdict`)."""
        return {name: getattr(self, name) for name in self.__slots__}

    def as_document(self) -> dict[str, Any]:
        doc = self.row()
        doc["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.at))
        return doc


class AuditTrail:
    """Writes and reads `audit_events`; every record is also one structured log line."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Group commit: events recorded while another caller's insert is committing go
        # into the next transaction together, so concurrent pushes (three audited requests
        # per blob) do not queue one SQLite write lock and fsync per event.
        self._cond = threading.Condition()
        self._pending: list[dict[str, Any]] = []
        self._writing = False
        self._collecting = 0  # number of the batch `_pending` will be written as
        self._done = -1  # last batch written (or failed)

    def record(self, event: AuditEvent) -> None:
        """Insert the event; returns once the transaction holding it has ended."""
        with self._cond:
            self._pending.append(event.row())
            mine = self._collecting
            while self._done < mine:
                if self._writing:
                    self._cond.wait()
                    continue
                self._writing = True
                rows, self._pending = self._pending, []
                batch, self._collecting = self._collecting, self._collecting + 1
                self._cond.release()
                try:
                    with self.engine.begin() as conn:
                        conn.execute(sa.insert(t.audit_events), rows)
                finally:
                    self._cond.acquire()
                    self._writing = False
                    self._done = batch
                    self._cond.notify_all()
        log.info("audit", extra={"fields": event.as_document()})

    def query(
        self,
        *,
        principal: str | None = None,
        action: str | None = None,
        since: float | None = None,
        result: str | None = None,
        interface: str | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """Newest first. `principal` is an ARN, a user name or an access key id; `action`
        may use `*` wildcards (`ecr:Put*`); `interface` is one of INTERFACES."""
        a = t.audit_events
        q = sa.select(*(a.c[f] for f in AuditEvent.__slots__))
        if principal:
            q = q.where(
                sa.or_(
                    a.c.principal == principal,
                    a.c.principal.like(f"%/{_like_escape(principal)}", escape="\\"),
                    a.c.access_key_id == principal,
                )
            )
        if action:
            pattern = _like_escape(action).replace("*", "%")
            q = q.where(a.c.action.like(pattern, escape="\\"))
        if since is not None:
            q = q.where(a.c.at >= since)
        if result:
            q = q.where(a.c.result == result)
        if interface:
            q = q.where(a.c.interface == interface)
        q = q.order_by(a.c.at.desc(), a.c.id.desc()).limit(limit)
        with reading(self.engine) as conn:
            return [AuditEvent(**dict(row._mapping)) for row in conn.execute(q)]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def purge(engine: Engine, now: float, retention_days: int) -> int:
    """Delete events older than the retention; 0 days keeps them forever."""
    if retention_days <= 0:
        return 0
    with engine.begin() as conn:
        gone = conn.execute(
            sa.delete(t.audit_events).where(t.audit_events.c.at < now - retention_days * DAY)
        ).rowcount
    return int(gone or 0)


# -- classifying a request ----------------------------------------------------------------


def claimed_key_id(authorization: str | None) -> str | None:
    """The access key id a request's credentials name (verified or not)."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme == "AWS4-HMAC-SHA256":
        match = _CREDENTIAL_RE.search(value)
        return match.group(1)[:128] if match else None
    if scheme.lower() == "basic":
        try:
            user, _, password = (
                base64.b64decode(value.strip(), validate=True).decode().partition(":")
            )
        except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII header text
            return None
        if user == "AWS":  # a GetAuthorizationToken password: tidegate.<key id>.<exp>.<mac>
            parts = password.split(".")
            return parts[1][:128] if len(parts) == 4 else None
        return user[:128] or None
    return None


def v2_action(method: str, path: str) -> tuple[str, str | None]:
    """The ECR action a `/v2/` request amounts to (as ECR's IAM documents them) and the
    repository it is on."""
    rest = path[len("/v2/") :]
    for marker, by_method in _V2_ACTIONS:
        name, sep, _ = rest.partition(marker)
        if sep and name:
            return by_method.get(method, "ecr:" + method.title()), name
    if rest.startswith("_catalog"):
        return "ecr:DescribeRepositories", None
    return "ecr:GetAuthorizationToken" if rest == "" else "ecr:Unknown", None


_V2_ACTIONS: tuple[tuple[str, dict[str, str]], ...] = (
    ("/blobs/uploads", {"POST": "ecr:InitiateLayerUpload", "PATCH": "ecr:UploadLayerPart",
                        "PUT": "ecr:CompleteLayerUpload", "GET": "ecr:UploadLayerPart",
                        "DELETE": "ecr:CompleteLayerUpload"}),
    ("/blobs/", {"GET": "ecr:GetDownloadUrlForLayer", "HEAD": "ecr:BatchCheckLayerAvailability",
                 "DELETE": "ecr:BatchDeleteImage"}),
    ("/manifests/", {"GET": "ecr:BatchGetImage", "HEAD": "ecr:BatchGetImage",
                     "PUT": "ecr:PutImage", "DELETE": "ecr:BatchDeleteImage"}),
    ("/tags/list", {"GET": "ecr:ListImages"}),
    ("/referrers/", {"GET": "ecr:BatchGetImage"}),
)  # fmt: skip


def ecr_resource(settings: Settings, body: bytes) -> str | None:
    """The ARN an ECR request is about: its repository, or the resourceArn it names."""
    name: str | None = None
    try:
        params = load_json(body)
    except ValueError:
        match = _REPO_RE.search(body)  # a large body (a layer part) was only partly kept
        name = match.group(1).decode() if match else None
    else:
        if isinstance(params, dict):
            if isinstance(params.get("resourceArn"), str):
                return str(params["resourceArn"])[:1024]
            if isinstance(params.get("repositoryName"), str):
                name = params["repositoryName"]
    return repository_arn(settings, name) if name else None


def inspector_resource(labels: Mapping[str, str], body: bytes) -> str | None:
    """The ARN an Inspector2 request names (a tag call's path, a filter call's body)."""
    if "resourceArn" in labels:
        return labels["resourceArn"][:1024]
    try:
        params = load_json(body)
    except ValueError:
        return None
    if isinstance(params, dict):
        for member in _ARN_MEMBERS:
            if isinstance(params.get(member), str):
                return str(params[member])[:1024]
    return None


def repository_arn(settings: Settings, name: str) -> str:
    return f"arn:aws:ecr:{settings.region}:{settings.registry_id}:repository/{name}"[:1024]


def v2_error_code(body: bytes) -> str | None:
    try:
        errors = json.loads(body).get("errors") or []
        return str(errors[0]["code"])
    except (ValueError, AttributeError, LookupError, TypeError):
        return None


@dataclass(slots=True)
class _Exchange:
    """What the middleware learns about one request as it passes."""

    interface: str
    action: str
    key_id: str | None
    has_credentials: bool
    address: str | None
    mutating: bool = True
    repository: str | None = None
    labels: Mapping[str, str] | None = None  # an Inspector2 request's URI labels
    body: bytes = b""
    status: int = 0
    error: str | None = None
    response_body: bytes = b""


class AuditMiddleware:
    """ASGI middleware for the ECR API, `/v2/` and Inspector2: sign-in limits, then the
    audit record."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        engine: Engine,
        inspector_route: InspectorRoute | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.inspector_route = inspector_route
        self.trail = AuditTrail(engine)
        self.limiter = SignInLimiter.from_settings(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ex = self._classify(scope) if scope["type"] == "http" else None
        if ex is None:
            await self.app(scope, receive, send)
            return
        wait = self.limiter.retry_after(ex.key_id, ex.address) if ex.has_credentials else 0.0
        try:
            if wait > 0:
                await self._throttle(ex, wait, send)
            else:
                await self.app(scope, self._tee_request(ex, receive), self._tee_response(ex, send))
                self._count_sign_in(ex)
        finally:
            ex.status = ex.status or 500  # an exception escaped before any response
            if self._worth_recording(ex):
                try:
                    await run_in_threadpool(self._record, scope, ex)
                except Exception:  # an audit failure must not fail a request already served
                    log.exception("recording an audit event failed")

    def _classify(self, scope: Scope) -> _Exchange | None:
        path: str = scope["path"]
        method: str = scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        address = str(client[0]) if client else None
        authorization = headers.get("authorization")
        if path == "/" and method == "POST":
            action = headers.get("x-amz-target", "").partition(".")[2] or "Unknown"
            return _Exchange("ecr", f"ecr:{action}"[:128], claimed_key_id(authorization),
                             authorization is not None, address)  # fmt: skip
        if path.startswith("/v2/"):
            action, repository = v2_action(method, path)
            return _Exchange("v2", action, claimed_key_id(authorization),
                             authorization is not None, address,
                             method in _V2_WRITES, repository)  # fmt: skip
        found = self.inspector_route(method, path) if self.inspector_route else None
        if found is not None:
            return _Exchange("inspector2", f"inspector2:{found[0]}"[:128],
                             claimed_key_id(authorization), authorization is not None,
                             address, labels=found[1])  # fmt: skip
        return None

    def _tee_request(self, ex: _Exchange, receive: Receive) -> Receive:
        if ex.interface not in _AWS_JSON:
            return receive

        async def tee() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(ex.body) < _CAPTURE:
                ex.body += message.get("body", b"")[: _CAPTURE - len(ex.body)]
            return message

        return tee

    def _tee_response(self, ex: _Exchange, send: Send) -> Send:
        async def tee(message: Message) -> None:
            if message["type"] == "http.response.start":
                ex.status = int(message["status"])
                for k, v in message.get("headers", []):
                    if k.lower() == b"x-amzn-errortype":
                        ex.error = v.decode("latin-1")[:256]
            elif (
                message["type"] == "http.response.body"
                and ex.status >= 400
                and ex.interface == "v2"
                and len(ex.response_body) < _CAPTURE
            ):
                ex.response_body += message.get("body", b"")
            await send(message)

        return tee

    async def _throttle(self, ex: _Exchange, wait: float, send: Send) -> None:
        retry = str(max(1, int(wait + 0.999)))
        msg = f"Too many failed sign-ins; try again in {retry} seconds"
        if ex.interface == "ecr":
            ex.status, ex.error = 400, "ThrottlingException"
            body = json.dumps({"__type": "ThrottlingException", "message": msg}).encode()
            headers = [(b"content-type", b"application/x-amz-json-1.1"),
                       (b"x-amzn-errortype", b"ThrottlingException")]  # fmt: skip
        elif ex.interface == "inspector2":  # REST-JSON: the type is the header, 429 modeled
            ex.status, ex.error = 429, "ThrottlingException"
            body = json.dumps({"message": msg}).encode()
            headers = [(b"content-type", b"application/json"),
                       (b"x-amzn-errortype", b"ThrottlingException")]  # fmt: skip
        else:
            ex.status, ex.error = 429, "TOOMANYREQUESTS"
            body = json.dumps(
                {"errors": [{"code": "TOOMANYREQUESTS", "message": msg, "detail": {}}]}
            ).encode()
            headers = [(b"content-type", b"application/json")]
        headers += [(b"retry-after", retry.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": ex.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _sign_in_failed(self, ex: _Exchange) -> bool:
        if not ex.has_credentials:
            return False
        if ex.interface in _AWS_JSON:
            return ex.error in SIGN_IN_ERRORS
        return ex.status == 401

    def _count_sign_in(self, ex: _Exchange) -> None:
        if self._sign_in_failed(ex):
            self.limiter.failed(ex.key_id, ex.address)
        elif ex.has_credentials and ex.status < 500:
            self.limiter.succeeded(ex.key_id)

    def _result(self, ex: _Exchange) -> str:
        if ex.interface in _AWS_JSON:
            if ex.status < 400:
                return ALLOWED
            return DENIED if ex.error in REFUSAL_ERRORS else FAILED
        if ex.status < 400:
            return ALLOWED
        return DENIED if ex.status in (401, 403, 429) else FAILED

    def _worth_recording(self, ex: _Exchange) -> bool:
        if self._result(ex) == DENIED:
            # The credential-less 401 is the challenge that starts every client's sign-in.
            return ex.has_credentials or ex.status != 401 or ex.interface != "v2"
        if ex.interface in _AWS_JSON:
            action = ex.action.partition(":")[2]
            return action == "GetAuthorizationToken" or not action.startswith(_READ_PREFIXES)
        return ex.mutating

    def _record(self, scope: Scope, ex: _Exchange) -> None:
        if ex.interface == "v2" and ex.error is None and ex.status >= 400:
            ex.error = v2_error_code(ex.response_body) or str(ex.status)
        resource: str | None = None
        if ex.interface == "ecr":
            resource = ecr_resource(self.settings, ex.body)
        elif ex.interface == "inspector2":
            resource = inspector_resource(ex.labels or {}, ex.body)
        elif ex.repository:
            resource = repository_arn(self.settings, ex.repository)
        self.trail.record(
            AuditEvent(
                at=time.time(),
                principal=self._principal(scope, ex),
                access_key_id=ex.key_id,
                action=ex.action,
                resource=resource,
                result=self._result(ex),
                error=ex.error,
                source_ip=ex.address,
                interface=ex.interface,
            )
        )

    def _principal(self, scope: Scope, ex: _Exchange) -> str | None:
        # The auth layer's Principal, once it puts one on the request state, is the source.
        given = scope.get("state", {}).get("principal")
        if given is not None:
            return str(getattr(given, "arn", given))
        return derived_principal(scope, self.settings, ex.key_id)


def derived_principal(scope: Scope, settings: Settings, key_id: str | None) -> str | None:
    """`arn:aws:iam::<registry id>:user/<key owner>` for a key this registry knows."""
    auth = getattr(scope["app"].state, "auth", None) if "app" in scope else None
    if key_id is None or auth is None:
        return None
    found = auth.keys.active_secret(key_id)
    if found is None:
        return None
    return f"arn:aws:iam::{settings.registry_id}:user/{found[0].principal}"


_V2_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def events_as_documents(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    return [e.as_document() for e in events]
