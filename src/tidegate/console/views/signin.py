"""Sign-in and sign-out. The sign-in form has its own double-submit CSRF cookie (there is no
session yet); failed sign-ins are limited per key and address like the APIs', and every
sign-in, refused sign-in and sign-out goes to the APIs' audit trail (interface "console")."""

from __future__ import annotations

import hmac
import secrets
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tidegate.auth.audit import ALLOWED, DENIED, FAILED, AuditEvent, derived_principal
from tidegate.auth.ratelimit import SignInLimiter
from tidegate.console.session import COOKIE, PATH
from tidegate.console.web import (
    Call,
    console_of,
    csrf_refused,
    render,
    view,
    write_session,
)
from tidegate.errors import Unauthorized

LOGIN_CSRF_COOKIE = "tidegate_console_login"
SIGN_IN, SIGN_OUT = "console:SignIn", "console:SignOut"
_limiters: dict[int, SignInLimiter] = {}


def _limiter(request: Request) -> SignInLimiter:
    key = id(request.app)
    if key not in _limiters:
        _limiters[key] = SignInLimiter.from_settings(console_of(request).settings)
    return _limiters[key]


def _safe_next(target: str) -> str:
    # Only paths inside the console: an absolute or scheme-relative URL would be an open redirect.
    if target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/dashboard"


def _form(
    request: Request, status: int = 200, error: str = "", key_id: str = "", next_path: str = ""
) -> Response:
    console = console_of(request)
    token = secrets.token_urlsafe(24)
    response = render(
        None,
        "sign_in.html",
        status,
        console=console,
        request=request,
        title="Sign in",
        login_csrf=token,
        error=error,
        access_key_id=key_id,
        next=next_path or request.query_params.get("next", ""),
        auth_enabled=console.settings.auth_enabled,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def _audit(
    request: Request, action: str, key_id: str, result: str, error: str | None = None
) -> None:
    """One audit record, as the APIs write them; the principal is the key's owner when
    the key exists (also for a wrong secret: whose key was tried matters)."""
    console = console_of(request)
    key = key_id or None
    console.audit.record(
        AuditEvent(
            at=time.time(),
            principal=derived_principal(request.scope, console.settings, key),
            access_key_id=key,
            action=action,
            resource=None,
            result=result,
            error=error,
            source_ip=request.client.host if request.client else None,
            interface="console",
        )
    )


async def sign_in_page(request: Request) -> Response:
    return _form(request)


async def sign_in(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    token = str(form.get("csrf_token", ""))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not token or not hmac.compare_digest(token, expected):
        return csrf_refused(console, request)
    key_id = str(form.get("access_key_id", "")).strip()
    secret = str(form.get("secret_access_key", ""))
    next_path = _safe_next(str(form.get("next", "")))
    address = request.client.host if request.client else None
    limiter = _limiter(request)
    wait = limiter.retry_after(key_id or None, address)
    if wait > 0:
        await run_in_threadpool(_audit, request, SIGN_IN, key_id, DENIED, "TooManySignIns")
        return _form(
            request,
            429,
            f"Too many failed sign-ins. Try again in {int(wait) + 1} s.",
            key_id,
            next_path,
        )
    if console.settings.auth_enabled:
        try:
            await run_in_threadpool(console.auth.verify_secret, key_id, secret)
        except Unauthorized:
            limiter.failed(key_id or None, address)
            await run_in_threadpool(_audit, request, SIGN_IN, key_id, FAILED, "InvalidCredentials")
            return _form(request, 401, "Unknown access key ID or wrong secret.", key_id, next_path)
        limiter.succeeded(key_id)
        await run_in_threadpool(_audit, request, SIGN_IN, key_id, ALLOWED)
    session = console.codec.new(key_id or "anonymous")
    response = RedirectResponse(next_path, status_code=303)
    write_session(console, response, session, request)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PATH)
    return response


def sign_out(call: Call) -> Response:
    if call.settings.auth_enabled:
        _audit(call.request, SIGN_OUT, call.session.access_key_id, ALLOWED)
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path=PATH)
    return response


async def root(request: Request) -> Response:
    return RedirectResponse("/console/dashboard", status_code=303)


ROUTES = [
    Route("/", root, methods=["GET"]),
    Route("/sign-in", sign_in_page, methods=["GET"]),
    Route("/sign-in", sign_in, methods=["POST"]),
    Route("/sign-out", view(sign_out), methods=["POST"]),
]
