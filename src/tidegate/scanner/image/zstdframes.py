"""Follow the zstd frame structure of a compressed stream to tell complete from truncated.

python-zstandard's stream reader ends quietly when its input stops in the middle of a frame,
so a truncated zstd layer would scan as a shorter, valid-looking tar. This walker reads only
frame and block headers (RFC 8878) as the bytes pass and skips block contents by their sizes,
so it costs nearly nothing; at the end of the input it says whether the last frame finished.
"""

from __future__ import annotations

from tidegate.scanner.image.errors import ScanFailed

_ZSTD_MAGIC = 0xFD2FB528
_SKIPPABLE_MASK, _SKIPPABLE = 0xFFFFFFF0, 0x184D2A50
_DICT_ID_BYTES = (0, 1, 2, 4)
_FCS_BYTES = (0, 2, 4, 8)

# Phases: collect a fixed-size header, or skip a known number of bytes.
_MAGIC, _SKIP_SIZE, _DESCRIPTOR, _BLOCK, _SKIP, _TRAILING = range(6)


class FrameWalker:
    """Feed it the compressed bytes in order; `check_complete` at the end of the input."""

    def __init__(self) -> None:
        self._phase = _MAGIC
        self._buf = b""
        self._skip = 0
        self._after_skip = _MAGIC
        self._checksum = 0
        self.frames = 0

    def _want(self) -> int:
        return {_MAGIC: 4, _SKIP_SIZE: 4, _DESCRIPTOR: 1, _BLOCK: 3}[self._phase]

    def feed(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view and self._phase != _TRAILING:
            if self._phase == _SKIP:
                n = min(self._skip, len(view))
                self._skip -= n
                view = view[n:]
                if not self._skip:
                    self._phase = self._after_skip
                continue
            need = self._want() - len(self._buf)
            self._buf += bytes(view[:need])
            view = view[need:]
            if len(self._buf) == self._want():
                header, self._buf = self._buf, b""
                self._header(int.from_bytes(header, "little"))

    def _skip_then(self, n: int, phase: int) -> None:
        self._skip, self._after_skip = n, phase
        self._phase = _SKIP if n else phase

    def _header(self, value: int) -> None:
        if self._phase == _MAGIC:
            if value == _ZSTD_MAGIC:
                self._phase = _DESCRIPTOR
            elif value & _SKIPPABLE_MASK == _SKIPPABLE:
                self._phase = _SKIP_SIZE
            else:
                self._phase = _TRAILING  # bytes after the last frame: padding, as with gzip
        elif self._phase == _SKIP_SIZE:
            self._skip_then(value, _MAGIC)
        elif self._phase == _DESCRIPTOR:
            single_segment = bool(value & 0x20)
            fcs = _FCS_BYTES[value >> 6] or (1 if single_segment else 0)
            self._checksum = 4 if value & 0x04 else 0
            rest = (0 if single_segment else 1) + _DICT_ID_BYTES[value & 0x03] + fcs
            self._skip_then(rest, _BLOCK)
        else:  # block header: last flag, type, size
            last, kind, size = value & 1, (value >> 1) & 3, value >> 3
            if kind == 3:
                msg = "corrupt zstd stream: reserved block type"
                raise ScanFailed(msg)
            content = 1 if kind == 1 else size
            if last:
                self.frames += 1
                self._skip_then(content + self._checksum, _MAGIC)
            else:
                self._skip_then(content, _BLOCK)

    def check_complete(self) -> None:
        """Raise `ScanFailed` unless the input ended between frames (or in trailing bytes)."""
        between = self._phase == _MAGIC and not self._buf
        if not self.frames or not (between or self._phase == _TRAILING):
            msg = "truncated zstd stream"
            raise ScanFailed(msg)
