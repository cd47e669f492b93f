"""Parse an rpm header blob (as stored in every rpmdb backend) into the tags we need.

Layout: big-endian index count and data length, `count` 16-byte entries (tag, type, offset,
count), then the data store. Only string and int32 tags are decoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tidegate.scanner.analyzers.base import AnalyzerError

NAME, VERSION, RELEASE, EPOCH, LICENSE, ARCH, SOURCERPM = 1000, 1001, 1002, 1003, 1014, 1022, 1044
_STRING, _INT32, _STRING_ARRAY, _I18NSTRING = 6, 4, 8, 9
_MAX_INDEX = 100_000
_MAX_DATA = 256 << 20


@dataclass(frozen=True, slots=True)
class RpmHeader:
    """The identity tags of one installed rpm."""

    name: str
    version: str
    release: str
    epoch: int | None
    arch: str
    sourcerpm: str
    license: str

    @property
    def evr(self) -> str:
        """`[epoch:]version-release`, the form `rpm -q` prints without epoch."""
        prefix = f"{self.epoch}:" if self.epoch is not None else ""
        return f"{prefix}{self.version}-{self.release}"


def _cstring(store: bytes, offset: int) -> str:
    end = store.find(b"\0", offset)
    if end < 0:
        msg = "unterminated string in rpm header"
        raise AnalyzerError(msg)
    return store[offset:end].decode("utf-8", "replace")


def parse_header(blob: bytes) -> RpmHeader:
    """Decode one header; raises `AnalyzerError` when it is not a well-formed header."""
    if len(blob) < 8:
        msg = "rpm header too short"
        raise AnalyzerError(msg)
    il, dl = struct.unpack(">II", blob[:8])
    if il > _MAX_INDEX or dl > _MAX_DATA or 8 + 16 * il + dl > len(blob):
        msg = f"rpm header sizes out of range (index {il}, data {dl})"
        raise AnalyzerError(msg)
    store = blob[8 + 16 * il : 8 + 16 * il + dl]
    strings: dict[int, str] = {}
    ints: dict[int, int] = {}
    for i in range(il):
        tag, typ, offset, count = struct.unpack_from(">iIiI", blob, 8 + 16 * i)
        if offset < 0 or offset >= max(dl, 1):
            continue
        if typ in (_STRING, _I18NSTRING, _STRING_ARRAY) and tag in (
            NAME,
            VERSION,
            RELEASE,
            LICENSE,
            ARCH,
            SOURCERPM,
        ):
            strings[tag] = _cstring(store, offset)
        elif typ == _INT32 and tag == EPOCH and count >= 1 and offset + 4 <= dl:
            ints[tag] = struct.unpack_from(">i", store, offset)[0]
    if NAME not in strings or VERSION not in strings:
        msg = "rpm header without name or version"
        raise AnalyzerError(msg)
    return RpmHeader(
        name=strings[NAME],
        version=strings[VERSION],
        release=strings.get(RELEASE, ""),
        epoch=ints.get(EPOCH),
        arch=strings.get(ARCH, ""),
        sourcerpm=strings.get(SOURCERPM, ""),
        license=strings.get(LICENSE, ""),
    )


def split_sourcerpm(sourcerpm: str) -> tuple[str, str]:
    """`bash-5.1.8-6.el9.src.rpm` -> ("bash", "5.1.8-6.el9")."""
    stem = sourcerpm.removesuffix(".rpm")
    stem = stem.rpartition(".")[0] if stem.endswith((".src", ".nosrc")) else stem
    parts = stem.rsplit("-", 2)
    if len(parts) != 3:
        return "", ""
    return parts[0], f"{parts[1]}-{parts[2]}"
