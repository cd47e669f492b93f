"""The console's request plumbing: sessions, CSRF, authorization, ECR operations, rendering
and the error page. Views are plain functions of a `Call`, run in the thread pool."""

from __future__ import annotations

import hmac
import logging
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tidegate.auth.audit import AuditTrail
from tidegate.auth.principal import Principal
from tidegate.auth.service import AuthService
from tidegate.config import Settings
from tidegate.console.ports import EcrOperations
from tidegate.console.recent import Recent
from tidegate.console.session import COOKIE, PATH, Session, SessionCodec
from tidegate.errors import ErrorCode, InvalidParameter, TidegateError
from tidegate.inputs import ascii_decimal
from tidegate.registry.service import RegistryService
from tidegate.scanner.severity import WORST_FIRST

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
PAGE_SIZE = 25
DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")
MAX_PAGE_SIZE = 100
DEFAULT_SESSION_SECONDS = 8 * 3600
SEVERITIES = WORST_FIRST

# Every asset is Tidegate's own; no page may be framed (its forms would be clickjackable).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none';"
    " form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# The HTTP status of each error as the console shows it.
_STATUS = {
    ErrorCode.NAME_UNKNOWN: 404,
    ErrorCode.MANIFEST_UNKNOWN: 404,
    ErrorCode.BLOB_UNKNOWN: 404,
    ErrorCode.SCAN_NOT_FOUND: 404,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.DENIED: 403,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.STORAGE: 500,
}
# ECR exception names that are "not found" although their ErrorCode is generic.
_NOT_FOUND_TYPES = {
    "RepositoryNotFoundException",
    "ImageNotFoundException",
    "ScanNotFoundException",
    "LifecyclePolicyNotFoundException",
}


def _when(value: float | None) -> str:
    if value is None:
        return "—"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _clock(value: float) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(value: int | None) -> str:
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _short(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:12]}" if hexpart else digest


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
        undefined=StrictUndefined,  # a value a view forgot fails the page (and its test)
    )
    env.filters["when"] = _when
    env.filters["clock"] = _clock
    env.filters["size"] = _size
    env.filters["short"] = _short
    env.globals["SEVERITIES"] = SEVERITIES
    return env


@dataclass
class Console:
    """What the console shares across requests (one per app)."""

    settings: Settings
    registry: RegistryService
    auth: AuthService
    codec: SessionCodec
    audit: AuditTrail
    ecr: EcrOperations
    env: Environment = field(default_factory=make_environment)
    recent: Recent = field(default_factory=Recent)


def console_of(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


@dataclass
class Call:
    """One console request: who is signed in, the query and form, and helpers."""

    request: Request
    console: Console
    session: Session
    principal: Principal | None
    query: Mapping[str, str]
    form: Mapping[str, str]
    notice: str = ""

    @property
    def registry(self) -> RegistryService:
        return self.console.registry

    @property
    def settings(self) -> Settings:
        return self.console.settings

    def repository_arn(self, name: str) -> str:
        return self.console.auth.authorizer.repository_arn(name)

    def registry_host(self) -> str:
        """host[:port] of the registry as clients reach it (repository URIs)."""
        return self.console.ecr.base_url(self.request).split("://", 1)[-1]

    def path_name(self) -> str:
        return str(self.request.path_params["name"])

    def path_digest(self) -> str:
        digest = str(self.request.path_params["digest"])
        if not DIGEST.fullmatch(digest):
            raise InvalidParameter(f"{digest!r} is not an image digest (sha256:<64 hex digits>)")
        return digest

    def require(self, action: str, resource: str) -> None:
        """The same decision the APIs make; Denied names the action and resource."""
        if self.principal is None:
            return
        authorizer = self.console.auth.authorizer
        client = self.request.client.host if self.request.client else None
        context = authorizer.context(self.principal, client, self.request.url.scheme == "https")
        authorizer.require(self.principal, action, resource, context)

    def allowed(self, action: str, resource: str) -> bool:
        try:
            self.require(action, resource)
        except TidegateError:
            return False
        return True

    def ecr(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run an ECR operation as the signed-in principal, exactly as the API would."""
        ops = self.console.ecr
        ops.validate(action, params)
        self.require(f"ecr:{action}", ops.resource(action, params))
        return ops.run(self.request, self.principal, action, params)

    def positive(self, name: str, default: int = 1) -> int:
        """A positive integer query parameter; InvalidParameter naming it if bad."""
        return _positive(self.query.get(name), name, default)

    def page(self) -> tuple[int, int]:
        """(page number from 1, page size) from `?page=&size=`; InvalidParameter if bad."""
        number = _positive(self.query.get("page"), "page", 1)
        size = min(_positive(self.query.get("size"), "size", PAGE_SIZE), MAX_PAGE_SIZE)
        return number, size

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        return render(self, template, status, **values)

    def counting(self, title: str) -> Response:
        """The page shown while a registry-wide count runs for the first time (202)."""
        return render(self, "counting.html", 202, title=title)

    def redirect(self, path: str, notice: str = "") -> Response:
        response = RedirectResponse(path, status_code=303)
        if notice:
            write_session(self.console, response, self.session.with_notice(notice), self.request)
        return response


def _positive(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    value = ascii_decimal(raw)
    if value is None or value < 1:
        raise InvalidParameter(f"{name} must be a positive integer, not {raw!r}")
    return value


def url_with(request: Request, **changes: object) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def pages(total: int, number: int, size: int) -> int:
    return max(1, math.ceil(total / size))


def render(
    call: Call | None,
    template: str,
    status: int = 200,
    *,
    console: Console | None = None,
    request: Request | None = None,
    **values: Any,
) -> Response:
    con = console or (call.console if call else None)
    req = request or (call.request if call else None)
    assert con is not None
    assert req is not None
    html = con.env.get_template(template).render(
        call=call,
        request=req,
        csrf=call.session.csrf if call else "",
        user=call.principal.user_name if call and call.principal else None,
        notice=call.notice if call else "",
        url_with=lambda **kw: url_with(req, **kw),
        **values,
    )
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if call is not None and call.notice:
        write_session(con, response, call.session.with_notice(""), req)
    return response


def write_session(console: Console, response: Response, session: Session, request: Request) -> None:
    response.set_cookie(
        COOKIE,
        console.codec.dumps(session),
        max_age=console.codec.max_age,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def error_status(console: Console, exc: TidegateError) -> tuple[int, str, str]:
    """(HTTP status, title, message) of an error as the console shows it."""
    type_name, _api_status, message = console.ecr.error(exc)
    status = _STATUS.get(exc.code, 400)
    if type_name == "LimitExceededException":
        status = 429
    if type_name in _NOT_FOUND_TYPES:
        status = 404
    if status >= 500:
        message = "An internal error occurred. The server log has the details."
    if exc.code is ErrorCode.NAME_UNKNOWN and isinstance(exc.detail, dict):
        message = f"The repository '{exc.detail.get('name', '')}' does not exist."
    titles = {
        400: "Invalid request",
        401: "Not signed in",
        403: "Access denied",
        404: "Not found",
        429: "Limit exceeded",
        500: "Something went wrong",
    }
    return status, titles.get(status, "Error"), message


def csrf_refused(console: Console, request: Request) -> Response:
    """The 403 page for a form whose CSRF token is missing or does not match."""
    return error_page(
        console,
        request,
        None,
        403,
        "Request refused",
        "This form's CSRF token is missing or wrong. Reload the page and try again.",
    )


def error_page(
    console: Console, request: Request, call: Call | None, status: int, title: str, message: str
) -> Response:
    return render(
        call,
        "error.html",
        status,
        console=console,
        request=request,
        title=title,
        message=message,
        code=status,
    )


View = Callable[[Call], Response]


def signed_in(request: Request) -> Session | None:
    return console_of(request).codec.loads(request.cookies.get(COOKIE))


def principal_for(console: Console, session: Session) -> Principal | bool | None:
    """The principal of a session; False when its key was revoked since sign-in."""
    if not console.settings.auth_enabled:
        return None
    found = console.auth.keys.active_secret(session.access_key_id)
    if found is None:
        return False
    return console.auth.principal_of(found[0])


def view(fn: View) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a view: sign-in required, CSRF on POST, errors as pages, body in the pool."""

    async def endpoint(request: Request) -> Response:
        console = console_of(request)
        session = signed_in(request)
        if session is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/console/sign-in?" + urlencode({"next": target}), 303)
        form: dict[str, str] = {}
        if request.method == "POST":
            raw = await request.form()
            form = {k: v for k, v in raw.items() if isinstance(v, str)}
            if not hmac.compare_digest(form.get("csrf_token", ""), session.csrf):
                return csrf_refused(console, request)
        call: Call | None = None
        try:
            principal = await run_in_threadpool(principal_for, console, session)
            if principal is False:
                return RedirectResponse("/console/sign-in", 303)
            assert principal is not True
            call = Call(
                request, console, session, principal, request.query_params, form, session.notice
            )
            return await run_in_threadpool(fn, call)
        except TidegateError as exc:
            status, title, message = error_status(console, exc)
            if status >= 500:
                log.error("console page failed", exc_info=exc)
            return error_page(console, request, call, status, title, message)
        except Exception:
            log.exception("unexpected error in the console")
            return error_page(
                console,
                request,
                call,
                500,
                "Something went wrong",
                "An internal error occurred. The server log has the details.",
            )

    return endpoint
