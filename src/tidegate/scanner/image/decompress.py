"""Turn a layer blob stream into a bounded stream of tar bytes, whatever its compression.

The compression is sniffed from the first bytes rather than trusted from the media type,
because registries and `docker save` disagree on media types while the magic never lies.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

import zstandard
from isal import isal_zlib

from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.image.limits import BudgetExceeded, Limits, Usage
from tidegate.scanner.image.zstdframes import FrameWalker

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 1 << 20
# isal's stubs declare its error as an instance; at run time it is the exception class.
_INFLATE_ERROR: type[Exception] = isal_zlib.error  # type: ignore[assignment]


class _ObservedReader(io.RawIOBase):
    """Passes `raw` through unchanged, showing each chunk read to `observe` on the way: the
    compressed-byte count of the bomb check, the zstd frame walker."""

    def __init__(self, raw: BinaryIO, observe: Callable[[bytes], object]) -> None:
        self._raw = raw
        self._observe = observe

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._observe(data)
        return n


class _Counter:
    """Compressed bytes read so far, so the bomb check can compute a ratio."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, data: bytes) -> None:
        self.count += len(data)


class _GzipReader(io.RawIOBase):
    """Multi-member gzip decoder that reports corruption as `ScanFailed`.

    Inflating is most of a cold scan's time; ISA-L's inflate (PyPI `isal`, zlib's interface)
    does it in about half zlib's time on the same layers. Output per call is capped
    (`max_length`) so a bomb never inflates in one gulp.
    """

    def __init__(self, raw: io.BufferedReader[_ObservedReader]) -> None:
        self._raw = raw
        self._z = isal_zlib.decompressobj(wbits=31)
        self._tail = b""
        self._pending = b""
        self._in_member = True

    def readable(self) -> bool:
        return True

    def _step(self) -> bool:
        data = self._tail or self._raw.read(_CHUNK)
        if not data:
            if self._in_member:
                raise ScanFailed("truncated gzip stream")
            return False
        try:
            self._pending = self._z.decompress(data, _CHUNK)
        except _INFLATE_ERROR as exc:
            raise ScanFailed(f"corrupt gzip stream: {exc}") from exc
        self._tail = self._z.unconsumed_tail
        if self._z.eof:
            rest = self._z.unused_data
            self._z = isal_zlib.decompressobj(wbits=31)
            # Bytes after the last member that are not another member are padding.
            self._in_member = rest.startswith(_GZIP_MAGIC)
            self._tail = rest if self._in_member else b""
            if not self._in_member and not rest:
                self._in_member = bool(self._raw.peek(1)[:1])
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            if not self._step():
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _ZstdReader(io.RawIOBase):
    """zstd frames in sequence; a stream cut inside a frame is `ScanFailed`, not a short tar."""

    def __init__(self, raw: io.RawIOBase) -> None:
        self._walker = FrameWalker()
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            _ObservedReader(raw, self._walker.feed),  # type: ignore[arg-type]
            read_size=_CHUNK,
        )
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._reader.read(len(buffer))
        except zstandard.ZstdError as exc:
            raise ScanFailed(f"corrupt zstd stream: {exc}") from exc
        if not data and len(buffer):
            self._finish()
        n = len(data)
        buffer[:n] = data
        return n

    def _finish(self) -> None:
        """Walk whatever the decompressor left unread, then check the last frame ended."""
        while chunk := self._raw.read(_CHUNK):
            self._walker.feed(chunk)
        self._walker.check_complete()


class _BoundedReader(io.RawIOBase):
    """Fails the scan once a layer (or the image) decompresses beyond the budgets."""

    def __init__(self, inner: io.RawIOBase, counter: _Counter, usage: Usage) -> None:
        self._inner = inner
        self._counter = counter
        self._usage = usage
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = self._inner.readinto(buffer) or 0
        self.produced += n
        lim = self._usage.limits
        if self.produced > lim.max_layer_bytes:
            msg = f"decompresses beyond {lim.max_layer_bytes} bytes (decompression bomb?)"
            raise BudgetExceeded("max_layer_uncompressed_bytes", msg)
        if self.produced > lim.ratio_after and self.produced > lim.max_ratio * max(
            self._counter.count, 1
        ):
            msg = (
                f"compression ratio exceeds {lim.max_ratio}:1 past {lim.ratio_after} bytes "
                "(decompression bomb?)"
            )
            raise BudgetExceeded("max_compression_ratio", msg)
        self._usage.charge_bytes(n)
        return n


def open_tar_stream(
    blob: BinaryIO, limits: Limits, usage: Usage | None = None
) -> io.BufferedReader:
    """A buffered stream of the layer's tar bytes; raises `ScanFailed` on corrupt data.

    `usage` accumulates what the whole scan decompressed (a fresh one when not given).
    """
    counter = _Counter()
    head = io.BufferedReader(_ObservedReader(blob, counter), _CHUNK)
    magic = head.peek(4)[:4]
    inner: io.RawIOBase
    if magic.startswith(_GZIP_MAGIC):
        inner = _GzipReader(head)
    elif magic.startswith(_ZSTD_MAGIC):
        inner = _ZstdReader(head)  # type: ignore[arg-type]
    else:
        inner = head  # type: ignore[assignment]
    bounded = _BoundedReader(inner, counter, usage or Usage(limits))
    return io.BufferedReader(bounded, _CHUNK)
