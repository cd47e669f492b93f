"""The ECR API as the console uses it (`tidegate.console.ports.EcrOperations`): the same
validation, authorization resource, handlers and error names as `POST /`, for a principal
the console's session already established."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from tidegate.auth.principal import Principal
from tidegate.auth.service import AuthService
from tidegate.config import Settings
from tidegate.ecr.api import base_url, resource_of
from tidegate.ecr.context import EcrContext
from tidegate.ecr.errors import ecr_error_of
from tidegate.ecr.operations import OPERATIONS
from tidegate.ecr.validation import validate_input
from tidegate.errors import TidegateError
from tidegate.registry.service import RegistryService


@dataclass(frozen=True, slots=True)
class EcrForConsole:
    settings: Settings
    registry: RegistryService
    auth: AuthService

    def validate(self, action: str, params: dict[str, Any]) -> None:
        validate_input(action, params)

    def resource(self, action: str, params: dict[str, Any]) -> str:
        return resource_of(self.auth, action, params)

    def run(
        self, request: Request, principal: Principal | None, action: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        caller = None
        if principal is not None:
            found = self.auth.keys.active_secret(principal.access_key_id)
            caller = found[0] if found is not None else None
        ctx = EcrContext(
            self.settings,
            self.registry,
            self.auth,
            caller,
            base_url(request, self.settings),
            principal,
        )
        return OPERATIONS[action](ctx, params)

    def error(self, exc: TidegateError) -> tuple[str, int, str]:
        return ecr_error_of(exc, self.settings.registry_id)

    def base_url(self, request: Request) -> str:
        return base_url(request, self.settings)
