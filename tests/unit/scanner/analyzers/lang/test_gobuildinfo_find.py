"""The Go build-info header search finds what Go's aligned scan finds, no more, no less."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.analyzers.lang.gobuildinfo import MAGIC, _find_header


def _reference(window: bytes) -> int:
    """Go's own loop: every 16-byte-aligned offset that leaves room for the 32-byte header."""
    for pos in range(0, len(window) - 32 + 1, 16):
        if window.startswith(MAGIC, pos):
            return pos
    return -1


@st.composite
def _windows(draw: st.DrawFn) -> bytes:
    window = bytearray(draw(st.binary(max_size=300)))
    for pos in draw(st.lists(st.integers(0, 300), max_size=4)):
        window[pos : pos + len(MAGIC)] = MAGIC
    return bytes(window)


@settings(max_examples=1000)
@given(_windows())
def test_matches_the_aligned_scan(window: bytes) -> None:
    assert _find_header(window) == _reference(window)


def test_unaligned_and_truncated_headers_are_skipped() -> None:
    unaligned = b"\0" * 8 + MAGIC + b"\0" * 64
    assert _find_header(unaligned) == -1
    assert _find_header(unaligned + b"\0" * 10 + MAGIC + b"\0" * 32) == 96
    assert _find_header(MAGIC + b"\0" * 17) == -1  # 31 bytes: no room for the header
    assert _find_header(MAGIC + b"\0" * 18) == 0
