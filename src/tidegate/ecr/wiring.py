"""Attach the ECR API's collaborators to the app: auth service, /v2/ authorizer, push hook."""

from __future__ import annotations

from starlette.applications import Starlette

from tidegate.auth.bootstrap import ensure_admin_key
from tidegate.auth.service import AuthService
from tidegate.auth.v2 import make_catalog_filter, make_v2_authorizer
from tidegate.config import Settings
from tidegate.registry.service import RegistryService


def install_ecr(app: Starlette, settings: Settings, registry: RegistryService) -> None:
    """Set `app.state.auth` and `app.state.v2_authorizer`; create the admin key on first start."""
    auth = AuthService(
        registry.engine,
        settings.data_dir,
        region=settings.region,
        registry_id=settings.registry_id,
    )
    if settings.auth_enabled:
        ensure_admin_key(auth, settings.data_dir)
    app.state.auth = auth
    app.state.v2_authorizer = make_v2_authorizer(settings, auth)
    if settings.auth_enabled:
        app.state.v2_catalog_filter = make_catalog_filter(auth)
