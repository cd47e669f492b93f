"""The faster header checksum and member-name normalisation agree with the plain definitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.image.paths import PathRejected, normalize_member
from tidegate.scanner.image.tarstream import _checksum_ok


def _plain_checksum(header: bytes) -> int:
    return sum(header[:148]) + 8 * 32 + sum(header[156:])


def _with_checksum(header: bytes, value: int) -> bytes:
    return header[:148] + f"{value:06o}\0 ".encode() + header[156:]


@settings(max_examples=500)
@given(st.binary(min_size=512, max_size=512), st.integers(-3, 3))
def test_checksum_matches_the_plain_byte_sum(raw: bytes, delta: int) -> None:
    right = _plain_checksum(raw)
    assert _checksum_ok(_with_checksum(raw, right + delta)) is (delta == 0)


def test_checksum_of_an_all_ones_header() -> None:
    # Near the largest possible sums, where a wrapping modulus would show.
    raw = b"\xff" * 512
    assert _checksum_ok(_with_checksum(raw, _plain_checksum(raw)))


def _plain_normalize(name: str) -> str:
    if name.startswith("/"):
        raise PathRejected("absolute")
    parts = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise PathRejected("traversal")
        parts.append(part)
    return "/".join(parts)


_names = st.lists(st.sampled_from(["", ".", "..", "a", "b.c", "...", ".wh.x", " "]), max_size=6)


@settings(max_examples=1000)
@given(_names.map("/".join))
def test_normalize_matches_the_component_loop(name: str) -> None:
    try:
        expected = _plain_normalize(name)
    except PathRejected:
        with pytest.raises(PathRejected):
            normalize_member(name)
        return
    assert normalize_member(name) == expected
