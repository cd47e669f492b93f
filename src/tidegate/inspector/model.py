"""The inspector2 service model from botocore: routes (method + requestUri) and validation.

Validation is ECR's (`ecr.validation.check_input`) run over this model, strict about unknown
members: a misspelt filter field would otherwise silently widen a query.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from botocore.loaders import Loader

from tidegate.ecr.validation import InputViolation, check_input
from tidegate.inspector.errors import InspectorError

SERVICE = "inspector2"
API_VERSION = "2020-06-08"


@functools.cache
def service_model() -> dict[str, Any]:
    model: dict[str, Any] = Loader().load_service_model(SERVICE, "service-2", API_VERSION)
    return model


@functools.cache
def routes() -> dict[tuple[str, str], str]:
    """(HTTP method, request URI) -> operation name, for every modeled operation."""
    out: dict[tuple[str, str], str] = {}
    for name, op in service_model()["operations"].items():
        http = op["http"]
        out[(http["method"], http["requestUri"])] = name
    return out


def validate_input(operation: str, params: Mapping[str, Any]) -> None:
    try:
        check_input(service_model(), operation, params, strict=True)
    except InputViolation as v:
        shown = v.value if isinstance(v.value, int | str | bool) else type(v.value).__name__
        message = f"Value '{shown}' at '{v.path}' failed to satisfy constraint: {v.constraint}"
        raise InspectorError(
            "ValidationException",
            f"1 validation error detected: {message}",
            fields=[{"name": v.path, "message": v.constraint}],
            reason="FIELD_VALIDATION_FAILED",
        ) from None
