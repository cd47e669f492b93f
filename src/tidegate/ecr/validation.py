"""The ECR service model from botocore, loaded at runtime, and request validation against it.

botocore checks only `required` and `min` on the client; the server must also enforce max,
pattern, enum and ranges. Driving this from the installed model keeps Tidegate in step
with the CLI and SDK the user runs (botocore is therefore a runtime dependency).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.loaders import Loader

from tidegate.ecr.errors import EcrError

SERVICE = "ecr"
API_VERSION = "2015-09-21"


@functools.cache
def service_model() -> dict[str, Any]:
    """The raw `service-2` document of the ECR API (cached: it is parsed once per process)."""
    model: dict[str, Any] = Loader().load_service_model(SERVICE, "service-2", API_VERSION)
    return model


def target_prefix() -> str:
    """`AmazonEC2ContainerRegistry_V20150921`, the X-Amz-Target prefix of every operation."""
    return str(service_model()["metadata"]["targetPrefix"])


def operation_errors(operation: str) -> frozenset[str]:
    """Names of the exception shapes the model lists for `operation`."""
    op = service_model()["operations"][operation]
    return frozenset(e["shape"] for e in op.get("errors", []))


@functools.cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


class InputViolation(Exception):
    """Where and how a request broke its operation's input shape."""

    def __init__(self, path: str, value: object, constraint: str) -> None:
        super().__init__(constraint)
        self.path = path
        self.value = value
        self.constraint = constraint


def validate_input(operation: str, params: Mapping[str, Any]) -> None:
    """Check `params` against the operation's input shape; raise the modeled error.

    The error is InvalidParameterException when the operation models it, otherwise
    ValidationException; the message follows AWS's "failed to satisfy constraint" style.
    """
    try:
        check_input(service_model(), operation, params)
    except InputViolation as v:
        errors = operation_errors(operation)
        kind = "InvalidParameterException"
        if kind not in errors and "ValidationException" in errors:
            kind = "ValidationException"
        shown = v.value if isinstance(v.value, int | str | bool) else type(v.value).__name__
        msg = (
            f"1 validation error detected: Value '{shown}' at '{v.path}' failed to satisfy "
            f"constraint: {v.constraint}"
        )
        raise EcrError(kind, msg) from None


@dataclass(frozen=True, slots=True)
class _Walk:
    shapes: Mapping[str, Any]
    strict: bool  # unknown structure members are violations


def check_input(
    model: Mapping[str, Any], operation: str, params: Mapping[str, Any], *, strict: bool = False
) -> None:
    """Check `params` against `operation`'s input shape in any botocore service model
    (ECR's, Inspector2's); InputViolation names the first broken constraint. `strict`
    refuses members the shape does not have (a misspelt filter must not widen a query)."""
    op = model["operations"][operation]
    if "input" in op:
        _check(_Walk(model["shapes"], strict), op["input"]["shape"], params, "")


def _check(walk: _Walk, shape_name: str, value: object, path: str) -> None:
    shape = walk.shapes[shape_name]
    kind = shape["type"]
    checker = _CHECKERS.get(kind)
    if checker is not None:
        checker(walk, shape, value, path or shape_name)


def _structure(walk: _Walk, shape: dict[str, Any], value: object, path: str) -> None:
    if not isinstance(value, dict):
        raise InputViolation(path, value, "Member must be an object")
    for name in shape.get("required", []):
        if value.get(name) is None:
            raise InputViolation(_join(path, name), None, "Member must not be null")
    members = shape.get("members", {})
    for name, item in value.items():
        if walk.strict and name not in members:
            raise InputViolation(_join(path, name), name, "Member is not a known field")
        if name in members and item is not None:
            _check(walk, members[name]["shape"], item, _join(path, name))


def _list(walk: _Walk, shape: dict[str, Any], value: object, path: str) -> None:
    if not isinstance(value, list):
        raise InputViolation(path, value, "Member must be a list")
    _length(shape, len(value), value, path)
    for i, item in enumerate(value):
        _check(walk, shape["member"]["shape"], item, f"{path}.{i + 1}.member")


def _map(walk: _Walk, shape: dict[str, Any], value: object, path: str) -> None:
    if not isinstance(value, dict):
        raise InputViolation(path, value, "Member must be a map")
    _length(shape, len(value), value, path)
    for key, item in value.items():
        _check(walk, shape["key"]["shape"], key, f"{path}.key")
        _check(walk, shape["value"]["shape"], item, f"{path}.value")


def _string(walk: _Walk, shape: dict[str, Any], value: object, path: str) -> None:
    if not isinstance(value, str):
        raise InputViolation(path, value, "Member must be a string")
    _length(shape, len(value), value, path)
    enum = shape.get("enum")
    if enum is not None and value not in enum:
        raise InputViolation(
            path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]"
        )
    pattern = shape.get("pattern")
    # AWS patterns are full-match regular expressions even without ^...$ anchors.
    if pattern is not None and _pattern(pattern).fullmatch(value) is None:
        raise InputViolation(
            path, value, f"Member must satisfy regular expression pattern: {pattern}"
        )


def _number(walk: _Walk, shape: dict[str, Any], value: object, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputViolation(path, value, "Member must be a number")
    if shape["type"] in ("integer", "long") and not float(value).is_integer():
        raise InputViolation(path, value, "Member must be an integer")
    if "min" in shape and value < shape["min"]:
        raise InputViolation(
            path, value, f"Member must have value greater than or equal to {shape['min']}"
        )
    if "max" in shape and value > shape["max"]:
        raise InputViolation(
            path, value, f"Member must have value less than or equal to {shape['max']}"
        )


def _boolean(walk: _Walk, shape: dict[str, Any], value: object, path: str) -> None:
    if not isinstance(value, bool):
        raise InputViolation(path, value, "Member must be a boolean")


def _length(shape: dict[str, Any], size: int, value: object, path: str) -> None:
    if "min" in shape and size < shape["min"]:
        raise InputViolation(
            path, value, f"Member must have length greater than or equal to {shape['min']}"
        )
    if "max" in shape and size > shape["max"]:
        raise InputViolation(
            path, value, f"Member must have length less than or equal to {shape['max']}"
        )


def _join(path: str, name: str) -> str:
    # Top-level members are reported bare ("repositoryName"), nested ones dotted.
    return name if not path or path.endswith("Request") else f"{path}.{name}"


_CHECKERS = {
    "structure": _structure,
    "list": _list,
    "map": _map,
    "string": _string,
    "integer": _number,
    "long": _number,
    "double": _number,
    "float": _number,
    "boolean": _boolean,
}
