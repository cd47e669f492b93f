"""The inspector2 service model from botocore: routes (method + requestUri) and validation.

Validation is ECR's (`ecr.validation.check_input`) run over this model, strict about unknown
members: a misspelt filter field would otherwise silently widen a query.
"""

from __future__ import annotations

import functools
import re
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


LABEL_RE = re.compile(r"\{(\w+)\+?\}")


@functools.cache
def _templates() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(method, pattern, operation) for the request URIs with `{label}`s. A label matches
    any non-empty text, slashes included: servers see the path percent-decoded, and botocore
    sends a label such as `resourceArn` percent-encoded, so its slashes arrive as slashes."""
    out = []
    for (method, uri), name in sorted(routes().items()):
        if "{" in uri:
            parts = LABEL_RE.split(uri)  # literal, label, literal, label, ...
            pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+)"
                              for i, p in enumerate(parts))  # fmt: skip
            out.append((method, re.compile(pattern), name))
    return tuple(out)


def route_of(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The operation a request is (method and percent-decoded path) and its URI labels."""
    name = routes().get((method, path))
    if name is not None:
        return name, {}
    for want, pattern, name in _templates():
        match = pattern.fullmatch(path) if want == method else None
        if match:
            return name, match.groupdict()
    return None


def uri_params(
    operation: str, labels: Mapping[str, str], query: Mapping[str, list[str]]
) -> dict[str, Any]:
    """The input members an operation takes from its URI labels and query string."""
    model = service_model()
    shape = model["shapes"][model["operations"][operation]["input"]["shape"]]
    out: dict[str, Any] = {}
    for member, ref in shape["members"].items():
        where, wire = ref.get("location"), ref.get("locationName", member)
        if where == "uri" and wire in labels:
            out[member] = labels[wire]
        elif where == "querystring" and wire in query:
            kind = model["shapes"][ref["shape"]]["type"]
            values = query[wire]
            out[member] = values if kind == "list" else values[-1]
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
