"""The request-authorization hook every HTTP API calls; `tidegate.auth` installs it.

The APIs (`/v2/`, `/api/`, the console) ask `authorize` and never import the auth package's
internals, so each can be served and tested without it; with no hook installed (auth
disabled) everything is allowed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

# (request, repository name or None for registry-wide, action "pull"|"push"|"delete"|"catalog")
Authorizer = Callable[[Request, str | None, str], Awaitable[None]]
# (request, repository names) -> the ones the caller may see (`app.state.v2_catalog_filter`)
CatalogFilter = Callable[[Request, list[str]], list[str]]


async def authorize(request: Request, name: str | None, action: str) -> None:
    """Ask the configured authorizer; it raises Unauthorized/Denied to refuse."""
    authorizer: Authorizer | None = getattr(request.app.state, "v2_authorizer", None)
    if authorizer is not None:
        await authorizer(request, name, action)


async def visible_repositories(request: Request, names: list[str]) -> list[str]:
    """The repositories of `names` the caller may list (all when no filter is installed)."""
    keep: CatalogFilter | None = getattr(request.app.state, "v2_catalog_filter", None)
    if keep is None:
        return names
    return await run_in_threadpool(keep, request, names)
