"""Go build information (`runtime/debug.BuildInfo`) read from a binary without running Go.

The linker writes a 32-byte header starting with the magic `\\xff Go buildinf:`, 16-byte
aligned, at the start of the `.go.buildinfo` section (or of the first data segment): byte 14
is the pointer size, byte 15 flags (bit 0 big-endian, bit 1 "strings inline"). Go 1.18+ put
two varint-length-prefixed strings right after the header (toolchain version, module info);
older toolchains put two pointers to Go string headers there instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import BinaryIO, Literal

from tidegate.scanner.analyzers.base import AnalyzerError
from tidegate.scanner.analyzers.lang.elf import ElfFile

MAGIC = b"\xff Go buildinf:"
_HEADER = 32
_SEARCH_WINDOW = 64 << 10  # Go's own reader looks this far into the data segment
_MAX_STRING = 4 << 20
_FLAG_BIG_ENDIAN, _FLAG_INLINE = 1, 2
_MODINFO_SENTINEL = 16


@dataclass(frozen=True, slots=True)
class Module:
    """A module line of the build info, with its `=>` replacement if any."""

    path: str
    version: str
    replace_path: str = ""
    replace_version: str = ""


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """What `go version -m` prints: toolchain, main package path, main module, dependencies."""

    go_version: str
    path: str
    main: Module | None
    deps: tuple[Module, ...]


def _varint(data: bytes) -> tuple[int, int]:
    """(value, bytes used) of the unsigned LEB128 varint at the start of `data`."""
    value = 0
    for i, byte in enumerate(data[:10]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, i + 1
    msg = "truncated build info string length"
    raise AnalyzerError(msg)


def _inline_strings(read: Callable[[int, int], bytes], at: int) -> tuple[str, str]:
    """Two varint-prefixed strings at file offset `at`; `read(offset, size)` may return less."""
    out = []
    for _ in range(2):
        length, used = _varint(read(at, 10))
        if length > _MAX_STRING:
            msg = "build info string length is implausible"
            raise AnalyzerError(msg)
        data = read(at + used, length)
        if len(data) != length:
            msg = "build info string runs past the end of the file"
            raise AnalyzerError(msg)
        out.append(data.decode("utf-8", "replace"))
        at += used + length
    return out[0], out[1]


def _clamped_reader(stream: BinaryIO, size: int) -> Callable[[int, int], bytes]:
    def read(offset: int, length: int) -> bytes:
        if offset >= size:
            return b""
        stream.seek(offset)
        return stream.read(min(length, size - offset))

    return read


def _pointer_string(elf: ElfFile, addr: int, big: bool, ptr_size: int) -> str:
    order: Literal["big", "little"] = "big" if big else "little"
    header = elf.read_at(elf.headers.offset_of(addr), 2 * ptr_size)
    data_addr = int.from_bytes(header[:ptr_size], order)
    length = int.from_bytes(header[ptr_size:], order)
    if length > _MAX_STRING:
        msg = "build info string length is implausible"
        raise AnalyzerError(msg)
    if length == 0:
        return ""
    return elf.read_at(elf.headers.offset_of(data_addr), length).decode("utf-8", "replace")


def _find_header(window: bytes) -> int:
    """The first 16-byte-aligned offset of a whole header in `window`, or -1."""
    # find() skips unaligned hits in C; a per-offset loop cost more than the ELF parse.
    pos = window.find(MAGIC)
    while pos >= 0 and pos % 16:
        pos = window.find(MAGIC, pos + 1)
    return pos if 0 <= pos <= len(window) - _HEADER else -1


def read_elf_buildinfo(elf: ElfFile) -> tuple[str, str] | None:
    """(go version, raw module info) of an ELF Go binary, or None if it has no build info."""
    headers = elf.headers
    section = headers.section(".go.buildinfo")
    if section is not None and not section.nobits:
        start = section.offset
    elif (segment := headers.first_data_segment()) is not None:
        start = segment.offset
    else:
        return None
    window = elf.read_at(start, max(0, min(_SEARCH_WINDOW, headers.size - start)))
    pos = _find_header(window)
    if pos < 0:
        return None
    blob = window[pos:]
    if len(blob) < _HEADER:
        msg = "truncated Go build info header"
        raise AnalyzerError(msg)
    ptr_size, flags = blob[14], blob[15]
    if flags & _FLAG_INLINE:
        return _inline_strings(_clamped_reader(elf.stream, headers.size), start + pos + _HEADER)
    if ptr_size not in (4, 8):
        msg = f"Go build info has pointer size {ptr_size}"
        raise AnalyzerError(msg)
    big = bool(flags & _FLAG_BIG_ENDIAN)
    order: Literal["big", "little"] = "big" if big else "little"
    version_ptr = int.from_bytes(blob[16 : 16 + ptr_size], order)
    mod_ptr = int.from_bytes(blob[16 + ptr_size : 16 + 2 * ptr_size], order)
    return (
        _pointer_string(elf, version_ptr, big, ptr_size),
        _pointer_string(elf, mod_ptr, big, ptr_size),
    )


def scan_inline_buildinfo(stream: BinaryIO, size: int) -> tuple[str, str] | None:
    """Find inline (Go 1.18+) build info anywhere in a non-ELF binary (Mach-O, PE)."""
    chunk = 1 << 20
    offset = 0
    while offset < size:
        stream.seek(offset)
        window = stream.read(chunk + _HEADER)
        pos = window.find(MAGIC)
        while pos >= 0 and pos % 16:
            pos = window.find(MAGIC, pos + 1)
        if pos >= 0 and pos + _HEADER <= len(window):
            if not window[pos + 15] & _FLAG_INLINE:
                msg = "pre-1.18 Go build info is only supported in ELF binaries"
                raise AnalyzerError(msg)
            return _inline_strings(_clamped_reader(stream, size), offset + pos + _HEADER)
        offset += chunk
    return None


def strip_sentinels(modinfo: str) -> str:
    """Module info is wrapped in two 16-byte sentinels; without them it is not trusted."""
    if len(modinfo) >= 2 * _MODINFO_SENTINEL + 1 and modinfo[-(_MODINFO_SENTINEL + 1)] == "\n":
        return modinfo[_MODINFO_SENTINEL:-_MODINFO_SENTINEL]
    return ""


def parse_modinfo(go_version: str, modinfo: str) -> BuildInfo:
    """Parse the tab-separated `path`/`mod`/`dep`/`=>` lines Go writes into binaries."""
    path, main = "", None
    deps: list[Module] = []
    for line in strip_sentinels(modinfo).splitlines():
        fields = line.split("\t")
        kind = fields[0]
        if kind == "path" and len(fields) >= 2:
            path = fields[1]
        elif kind in ("mod", "dep") and len(fields) >= 3:
            module = Module(fields[1], fields[2])
            if kind == "mod":
                main = module
            else:
                deps.append(module)
        elif kind == "=>" and len(fields) >= 2 and deps:
            # a replacement always refers to the module line right before it
            version = fields[2] if len(fields) > 2 else ""  # local directory: no version
            deps[-1] = replace(deps[-1], replace_path=fields[1], replace_version=version)
    return BuildInfo(go_version=go_version, path=path, main=main, deps=tuple(deps))
