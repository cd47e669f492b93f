"""Depth-limited JSON and ASCII decimals: the two parsers every API feeds client input to."""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.inputs import MAX_JSON_DEPTH, InputTooDeep, ascii_decimal, load_json

SETTINGS = settings(max_examples=300, deadline=None)


def nested(depth: int, *, objects: bool) -> bytes:
    if objects:
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("objects", [False, True])
@pytest.mark.parametrize("depth", [1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 1025, 100_000])
def test_depth_bound(depth: int, objects: bool) -> None:
    body = nested(depth, objects=objects)
    if depth <= MAX_JSON_DEPTH:
        assert load_json(body) == json.loads(body)
    else:
        with pytest.raises(InputTooDeep, match="deeper than 64"):
            load_json(body)


JSON_VALUES = st.recursive(
    st.none() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
)


@given(JSON_VALUES)
@SETTINGS
def test_agrees_with_json_within_the_bound(value: object) -> None:
    body = json.dumps(value).encode()
    assert load_json(body) == json.loads(body)


@given(st.binary(max_size=64))
@SETTINGS
def test_garbage_is_a_value_error(body: bytes) -> None:
    """Any bytes: a value or ValueError, never another exception."""
    with contextlib.suppress(ValueError):
        load_json(body)


@given(st.text(max_size=24))
@SETTINGS
def test_ascii_decimal(text: str) -> None:
    expected = int(text) if re.fullmatch(r"[0-9]{1,18}", text) else None
    assert ascii_decimal(text) == expected


@pytest.mark.parametrize("text", ["²", "١٢", "", "-1", " 1", "1e3", "9" * 19])
def test_ascii_decimal_refuses(text: str) -> None:
    assert ascii_decimal(text) is None
