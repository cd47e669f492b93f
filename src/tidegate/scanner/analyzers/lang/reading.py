"""Bounded reading and decoding of untrusted files, shared by the language analyzers.

Every reader here turns malformed or oversized input into `AnalyzerError`, so each analyzer
can stay a straight-line parser over already-validated Python values.
"""

from __future__ import annotations

import json
import tomllib
from typing import IO

import yaml

from tidegate.scanner.analyzers.base import AnalyzerError

try:  # the C loader is much faster on big lockfiles; the pure one is always there
    from yaml import CSafeLoader as _YamlLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _YamlLoader  # type: ignore[assignment]


def read_bounded(stream: IO[bytes], limit: int) -> bytes:
    """Read the whole stream, or raise `AnalyzerError` if it holds more than `limit` bytes."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        msg = f"file larger than {limit} bytes"
        raise AnalyzerError(msg)
    return data


def decode_text(data: bytes) -> str:
    """UTF-8 text (a BOM is tolerated); undecodable bytes are an `AnalyzerError`."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text: {exc}"
        raise AnalyzerError(msg) from exc


def load_json(data: bytes) -> object:
    """Parse JSON; syntax errors and hostile nesting depth become `AnalyzerError`."""
    try:
        return json.loads(decode_text(data))
    except (ValueError, RecursionError) as exc:
        msg = f"malformed JSON: {exc}"
        raise AnalyzerError(msg) from exc


def load_json_object(data: bytes) -> dict[str, object]:
    """Parse JSON that must be an object at the top level."""
    doc = load_json(data)
    if not isinstance(doc, dict):
        msg = "JSON document is not an object"
        raise AnalyzerError(msg)
    return doc


def load_toml(data: bytes) -> dict[str, object]:
    """Parse TOML; syntax errors become `AnalyzerError`."""
    try:
        return tomllib.loads(decode_text(data))
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        msg = f"malformed TOML: {exc}"
        raise AnalyzerError(msg) from exc


def load_yaml_mapping(data: bytes) -> dict[str, object]:
    """Parse a YAML document that must be a mapping (safe loader only: no object tags).

    Aliases are shared objects in PyYAML, so an alias bomb costs no memory as long as callers
    only look at the top levels, which every lockfile reader here does.
    """
    try:
        doc = yaml.load(decode_text(data), Loader=_YamlLoader)  # a SafeLoader subclass
    except (yaml.YAMLError, RecursionError) as exc:
        msg = f"malformed YAML: {exc}"
        raise AnalyzerError(msg) from exc
    if not isinstance(doc, dict):
        msg = "YAML document is not a mapping"
        raise AnalyzerError(msg)
    return doc


def as_str(value: object) -> str:
    """A JSON/YAML scalar as a string; anything else (lists, objects, null) is empty."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        return str(value)
    return ""


def as_dict(value: object) -> dict[str, object]:
    """A JSON/YAML object, or an empty one when the value has another type."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return {}


def as_list(value: object) -> list[object]:
    """A JSON/YAML array, or an empty one when the value has another type."""
    if isinstance(value, list):
        return value
    return []
