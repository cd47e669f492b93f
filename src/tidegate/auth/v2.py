"""The `/v2/` and `/api/` authorizer: authenticate (Basic), then authorize the ECR action.

Each registry route asks with a coarse verb (pull, push, delete, catalog, base); the ECR
action it amounts to is read from the method and the path, as ECR documents for
`docker pull`/`push`: manifests are ecr:BatchGetImage / ecr:PutImage, blobs are
ecr:GetDownloadUrlForLayer / ecr:BatchCheckLayerAvailability, uploads are
ecr:InitiateLayerUpload / ecr:UploadLayerPart / ecr:CompleteLayerUpload, deletes are
ecr:BatchDeleteImage. `/api/` routes check their own actions.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from tidegate.access import Authorizer, CatalogFilter
from tidegate.auth.authorize import CacheMiss, cache_only
from tidegate.auth.policy import Decision
from tidegate.auth.principal import Principal
from tidegate.auth.service import AuthService, anonymous_allowed
from tidegate.config import Settings
from tidegate.errors import Unauthorized

# /api/ path → the action it needs (Inspector-style reads; status is a registry read).
API_ACTIONS = {
    "/api/findings": "inspector2:ListFindings",
    "/api/usage": "inspector2:ListUsageTotals",
    "/api/status": "ecr:DescribeRegistry",
    "/metrics": "ecr:DescribeRegistry",
}
# Paths under the API's rules (credentials unless api_anonymous_access), not /v2/'s.
API_PREFIXES = ("/api/", "/metrics")


def challenge(realm: str) -> dict[str, str]:
    """The standard 401 challenge that makes docker/skopeo/podman send Basic credentials."""
    return {"WWW-Authenticate": f'Basic realm="{realm}"'}


def v2_action(method: str, path: str, verb: str, name: str | None = None) -> str | None:
    """The ECR action a `/v2/` request needs; None for the base check (authentication only).

    The route is read after `/v2/<name>/`, so a repository named `a/manifests` is no manifest.
    """
    if name and path.startswith(f"/v2/{name}/"):
        path = "/" + path[len(f"/v2/{name}") :].lstrip("/")
    if verb == "base":
        return None
    if verb == "catalog":
        return "ecr:DescribeRepositories"
    if verb == "delete":
        return "ecr:BatchDeleteImage"
    if verb == "push":
        if path.startswith("/manifests/"):
            return "ecr:PutImage"
        if method == "POST":
            return "ecr:InitiateLayerUpload"
        if method == "PUT":
            return "ecr:CompleteLayerUpload"
        return "ecr:UploadLayerPart"
    # pull
    if path.startswith(("/manifests/", "/referrers/")):
        return "ecr:BatchGetImage"
    if path.startswith("/tags/list"):
        return "ecr:ListImages"
    if path.startswith("/blobs/") and method == "HEAD":
        return "ecr:BatchCheckLayerAvailability"
    return "ecr:GetDownloadUrlForLayer"


def principal_of(request: Request) -> Principal | None:
    """The authenticated principal of this request (None: anonymous or auth disabled)."""
    found = getattr(request.state, "principal", None)
    return found if isinstance(found, Principal) else None


def make_v2_authorizer(settings: Settings, auth: AuthService) -> Authorizer:
    """An async authorizer for `app.state.v2_authorizer` enforcing the settings."""

    async def authorizer(request: Request, name: str | None, verb: str) -> None:
        if not settings.auth_enabled:
            return
        header = request.headers.get("authorization")
        realm = settings.public_url.rstrip("/") or f"{request.url.scheme}://{request.url.netloc}"
        path = request.url.path
        api_action = next((a for p, a in API_ACTIONS.items() if path.startswith(p)), None)
        is_api = path.startswith(API_PREFIXES)
        try:
            if header is None:
                if is_api:
                    if settings.api_anonymous_access:
                        return
                elif anonymous_allowed(settings.anonymous_access, verb):
                    return
                msg = "authentication required"
                raise Unauthorized(msg)
            # With the caches warm neither check touches the database and a thread hop
            # would cost more than both: decide here, and hop only when a lookup must load.
            try:
                with cache_only():
                    _check(request, name, verb, header, is_api, api_action)
            except CacheMiss:
                await run_in_threadpool(_check, request, name, verb, header, is_api, api_action)
        except Unauthorized as exc:
            exc.headers = challenge(f"{realm}/")
            raise

    def _check(
        request: Request,
        name: str | None,
        verb: str,
        header: str,
        is_api: bool,
        api_action: str | None,
    ) -> None:
        key = auth.verify_basic(header)
        principal = auth.principal_of(key)
        request.state.principal = principal
        action = api_action if is_api else v2_action(request.method, request.url.path, verb, name)
        if action is None or (is_api and api_action is None):
            return
        if verb == "catalog":
            return  # filtered per repository by catalog_filter
        resource = auth.authorizer.repository_arn(name) if name else "*"
        client = request.client.host if request.client else None
        context = auth.authorizer.context(principal, client, request.url.scheme == "https")
        auth.authorizer.require(principal, action, resource, context)

    return authorizer


def make_catalog_filter(auth: AuthService) -> CatalogFilter:
    """`_catalog` lists only the repositories the caller may describe."""

    def visible(request: Request, names: list[str]) -> list[str]:
        principal = principal_of(request)
        if principal is None:
            return names  # anonymous access allowed by the setting, or auth disabled
        client = request.client.host if request.client else None
        context = auth.authorizer.context(principal, client, request.url.scheme == "https")
        return [
            n
            for n in names
            if auth.authorizer.authorize(
                principal, "ecr:DescribeRepositories", auth.authorizer.repository_arn(n), context
            )
            is Decision.ALLOW
        ]

    return visible
