"""What the console needs from the ECR API, as an interface the app wires in: the console
runs ECR operations exactly as the API would (same validation, resource, handler and error
names) without importing the `ecr` package (DESIGN: API packages do not reach into each
other). `tidegate.ecr.console_port.EcrForConsole` is the implementation."""

from __future__ import annotations

from typing import Any, Protocol

from starlette.requests import Request

from tidegate.auth.principal import Principal
from tidegate.errors import TidegateError


class EcrOperations(Protocol):
    def validate(self, action: str, params: dict[str, Any]) -> None:
        """InvalidParameter (in ECR's words) when `params` do not fit `action`."""

    def resource(self, action: str, params: dict[str, Any]) -> str:
        """The ARN `action` is authorized on."""

    def run(
        self, request: Request, principal: Principal | None, action: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """The operation's response, as `principal` (authorization is the caller's job)."""

    def error(self, exc: TidegateError) -> tuple[str, int, str]:
        """(ECR exception name, HTTP status, message) the API would answer `exc` with."""

    def base_url(self, request: Request) -> str:
        """scheme://host[:port] clients use to reach the registry."""
