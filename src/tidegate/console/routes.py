"""`/console/` as one Starlette Mount: pages, static assets, and the shared Console."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tidegate.auth.audit import AuditTrail
from tidegate.auth.service import AuthService
from tidegate.config import Settings
from tidegate.console.ports import EcrOperations
from tidegate.console.session import SessionCodec
from tidegate.console.views import (
    dashboard,
    findings,
    image,
    operations,
    repositories,
    scanning,
    signin,
)
from tidegate.console.web import HERE, Console, view
from tidegate.registry.service import RegistryService


def session_seconds(settings: Settings) -> int:
    """`[console] session_seconds` of the settings (eight hours by default)."""
    return settings.console.session_seconds


def install_console(
    app: Starlette, settings: Settings, registry: RegistryService, ecr: EcrOperations
) -> None:
    """Set `app.state.console` (needs `app.state.auth`, set by install_ecr); `ecr` is how
    its forms run ECR operations (`tidegate.ecr.console_port.EcrForConsole`)."""
    auth: AuthService = app.state.auth
    codec = SessionCodec(auth.session_key, session_seconds(settings))
    console = Console(settings, registry, auth, codec, AuditTrail(registry.engine), ecr)
    app.state.console = console
    # The registry-wide counts are slow on a large registry: start them now, off any request.
    dashboard.warm(console)
    findings.warm(console)


async def to_console(request: Request) -> Response:
    return RedirectResponse("/console/", status_code=307)


def _repository_page() -> list[Route]:
    # Last: `{name:path}` would otherwise swallow the image and action paths.
    return [Route("/repositories/{name:path}", view(repositories.repository), methods=["GET"])]


ROUTES = [
    Route("/", to_console, methods=["GET"]),
    Mount(
        "/console",
        routes=[
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
            *signin.ROUTES,
            *dashboard.ROUTES,
            *findings.ROUTES,
            *scanning.ROUTES,
            *operations.ROUTES,
            *repositories.ROUTES,
            *image.ROUTES,
            *_repository_page(),
        ],
    ),
]
