"""Bounded parsing of client input: depth-limited JSON and ASCII decimal numbers.

Python's own `json` recurses once per nesting level, so a body nested 100,000 deep raises
RecursionError (a 500) before any validation runs; `str.isdigit` accepts "²", which `int`
then refuses. Every API parses client JSON and numbers through these two functions.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_JSON_DEPTH = 64
"""Deeper than any manifest, image config or API body a real client sends."""

MAX_DECIMAL_DIGITS = 18
"""Fits a signed 64-bit database integer."""


class InputTooDeep(ValueError):
    """A JSON document nests deeper than MAX_JSON_DEPTH."""


def load_json(body: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON without recursing on the stack; raises ValueError (InputTooDeep included).

    orjson refuses past its own fixed limit (1024 levels) without overflowing the stack;
    the tighter bound is then checked iteratively over the parsed value.
    """
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise InputTooDeep(f"JSON nests deeper than {max_depth} levels") from None
        raise
    _check_depth(doc, max_depth)
    return doc


def _check_depth(doc: Any, max_depth: int) -> None:
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            raise InputTooDeep(f"JSON nests deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


def ascii_decimal(text: str) -> int | None:
    """The value of a plain ASCII decimal of at most 18 digits, else None."""
    if not text or len(text) > MAX_DECIMAL_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
