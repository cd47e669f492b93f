"""The `/v2/` authorizer: Basic with a GetAuthorizationToken password or an access key."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from tidegate.auth.service import AuthService, anonymous_allowed
from tidegate.config import Settings
from tidegate.errors import Unauthorized
from tidegate.registry.api.common import Authorizer


def challenge(realm: str) -> dict[str, str]:
    """The standard 401 challenge that makes docker/skopeo/podman send Basic credentials."""
    return {"WWW-Authenticate": f'Basic realm="{realm}"'}


def make_v2_authorizer(settings: Settings, auth: AuthService) -> Authorizer:
    """An async authorizer for `app.state.v2_authorizer` enforcing the settings."""

    async def authorizer(request: Request, name: str | None, action: str) -> None:
        if not settings.auth_enabled:
            return
        header = request.headers.get("authorization")
        realm = settings.public_url.rstrip("/") or f"{request.url.scheme}://{request.url.netloc}"
        try:
            if header is None:
                if anonymous_allowed(settings.anonymous_access, action):
                    return
                msg = "authentication required"
                raise Unauthorized(msg)
            await run_in_threadpool(auth.verify_basic, header)
        except Unauthorized as exc:
            exc.headers = challenge(f"{realm}/")
            raise

    return authorizer
