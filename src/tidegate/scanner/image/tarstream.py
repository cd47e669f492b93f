"""A lean, streaming tar reader: headers parsed once, data skipped in large reads.

tarfile's stream mode re-slices a small buffer for every 512-byte header and skips member
data in 10 KiB steps; on layers with thousands of files that Python overhead rivals the
decompression itself. This reader handles what image layers use (ustar, GNU long names and
links, pax path/linkpath/size records, base-256 sizes), verifies header checksums, and raises
`ScanFailed` on anything truncated or corrupt.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from tidegate.scanner.image.errors import ScanFailed

BLOCK = 512
_SKIP_CHUNK = 1 << 20
_MAX_META = 1 << 20  # long names and pax headers larger than this are hostile
REGULAR = frozenset({b"0", b"\0", b"7"})
HARDLINK, SYMLINK, DIRECTORY = b"1", b"2", b"5"


@dataclass(frozen=True, slots=True)
class TarEntry:
    """One member header, after long-name and pax records were applied."""

    name: str
    type: bytes
    size: int
    mode: int
    linkname: str

    def isreg(self) -> bool:
        return self.type in REGULAR


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _number(field: bytes) -> int:
    if field and field[0] & 0x80:
        # base-256, as GNU tar writes sizes of 8 GiB and more
        value = int.from_bytes(field[1:], "big")
        return -value if field[0] & 0x40 else value
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError as exc:
        msg = f"corrupt tar header: bad number {field!r}"
        raise ScanFailed(msg) from exc


def _byte_sum(data: bytes) -> int:
    """sum(data) for at most 256 bytes, read off adler32's low half: (1 + sum) mod 65521.

    256 bytes sum to at most 65280, so the modulus never wraps; this is ten times faster
    than sum() over a header, which showed up as a third of the per-member cost.
    """
    return (zlib.adler32(data) & 0xFFFF) - 1


def _checksum_ok(header: bytes) -> bool:
    stored = _number(header[148:156])
    # The checksum field itself counts as eight spaces.
    unsigned = _byte_sum(header[:256]) + _byte_sum(header[256:]) - sum(header[148:156]) + 8 * 32
    return stored == unsigned


def _pax(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError as exc:
            msg = "corrupt pax header"
            raise ScanFailed(msg) from exc
        if length <= 0:
            msg = "corrupt pax header"
            raise ScanFailed(msg)
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


class TarReader:
    """Iterate entries; `read` returns the current member's data before the next entry."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._left = 0  # data bytes of the current member not read yet
        self._pad = 0

    def _exact(self, n: int) -> bytes:
        data = self._stream.read(n)
        if len(data) != n:
            msg = "truncated or corrupt tar: data ends before its headers say"
            raise ScanFailed(msg)
        return data

    def _skip(self, n: int) -> None:
        while n > 0:
            got = len(self._stream.read(min(n, _SKIP_CHUNK)))
            if not got:
                msg = "truncated or corrupt tar: data ends before its headers say"
                raise ScanFailed(msg)
            n -= got

    def read(self, n: int) -> bytes:
        """Up to `n` bytes of the current member's data."""
        n = min(n, self._left)
        data = self._exact(n) if n else b""
        self._left -= n
        return data

    def _meta(self, size: int) -> bytes:
        if size > _MAX_META:
            msg = f"tar metadata record of {size} bytes"
            raise ScanFailed(msg)
        data = self._exact(size)
        self._skip(-size % BLOCK)
        return data

    def __iter__(self) -> Iterator[TarEntry]:
        long_name = long_link = ""
        pax: dict[str, str] = {}
        while True:
            self._skip(self._left + self._pad)
            self._left = self._pad = 0
            header = self._stream.read(BLOCK)
            if not header or header == b"\0" * BLOCK:
                return
            if len(header) != BLOCK:
                msg = "truncated or corrupt tar: partial header"
                raise ScanFailed(msg)
            if not _checksum_ok(header):
                msg = "truncated or corrupt tar: bad header checksum"
                raise ScanFailed(msg)
            kind = header[156:157]
            size = _number(header[124:136])
            if size < 0:
                msg = "corrupt tar header: negative size"
                raise ScanFailed(msg)
            if kind == b"L":
                long_name = _text(self._meta(size))
                continue
            if kind == b"K":
                long_link = _text(self._meta(size))
                continue
            if kind == b"x":
                pax.update(_pax(self._meta(size)))
                continue
            if kind == b"g":
                self._meta(size)
                continue
            name = _text(header[0:100])
            if header[257:263] == b"ustar\0":
                prefix = _text(header[345:500])
                if prefix:
                    name = f"{prefix}/{name}"
            name = pax.get("path", long_name or name)
            link = pax.get("linkpath", long_link or _text(header[157:257]))
            if "size" in pax:
                try:
                    size = int(pax["size"])
                except ValueError as exc:
                    msg = "corrupt pax size"
                    raise ScanFailed(msg) from exc
            long_name = long_link = ""
            pax = {}
            carries_data = kind not in (HARDLINK, SYMLINK, DIRECTORY, b"3", b"4", b"6")
            self._left = size if carries_data else 0
            self._pad = -self._left % BLOCK
            yield TarEntry(name, kind, size, _number(header[100:108]), link)
