"""Just enough of ELF to find sections and map virtual addresses, reading headers only.

Every offset and size comes from the untrusted file, so each is checked against the file size
before it is used; a violation is an `AnalyzerError`, never an IndexError or a huge read.
The parsed headers (`ElfHeaders`) do not hold the stream, so `elf_headers` can parse them once
per file for all the binary analyzers (Go, Rust) that read the same executable.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

from tidegate.scanner.analyzers.base import AnalyzerError, AnalyzerInput

ELF_MAGIC = b"\x7fELF"
_PT_LOAD = 1
_PF_X, _PF_W = 1, 2
_MAX_HEADERS = 65535
_MAX_SHSTRTAB = 1 << 20


@dataclass(frozen=True, slots=True)
class Section:
    """A section header: name, virtual address, file offset and size (bytes in the file)."""

    name: str
    addr: int
    offset: int
    size: int
    nobits: bool


@dataclass(frozen=True, slots=True)
class Segment:
    """A PT_LOAD program header."""

    vaddr: int
    offset: int
    filesz: int
    flags: int


@dataclass(frozen=True, slots=True)
class ElfHeaders:
    """The parsed headers of one ELF file of `size` bytes."""

    size: int
    is64: bool
    endian: str  # "<" or ">"
    sections: tuple[Section, ...]
    segments: tuple[Segment, ...]

    def section(self, name: str) -> Section | None:
        """The first section called `name`, if any."""
        return next((s for s in self.sections if s.name == name), None)

    def offset_of(self, vaddr: int) -> int:
        """The file offset holding virtual address `vaddr`, via the PT_LOAD segments."""
        for seg in self.segments:
            if seg.vaddr <= vaddr < seg.vaddr + seg.filesz:
                return seg.offset + (vaddr - seg.vaddr)
        msg = f"address {vaddr:#x} is not backed by the file"
        raise AnalyzerError(msg)

    def first_data_segment(self) -> Segment | None:
        """The first writable, non-executable PT_LOAD segment (where Go puts build info)."""
        return next((s for s in self.segments if s.flags & (_PF_X | _PF_W) == _PF_W), None)


def _read_at(stream: BinaryIO, file_size: int, offset: int, size: int) -> bytes:
    if offset < 0 or size < 0 or offset + size > file_size:
        msg = f"ELF read {offset}+{size} outside the {file_size}-byte file"
        raise AnalyzerError(msg)
    stream.seek(offset)
    data = stream.read(size)
    if len(data) != size:
        msg = "ELF file shorter than its headers say"
        raise AnalyzerError(msg)
    return data


@dataclass(frozen=True, slots=True)
class ElfFile:
    """The parsed headers of one ELF file plus the stream to read its contents from."""

    stream: BinaryIO
    headers: ElfHeaders

    def read_at(self, offset: int, size: int) -> bytes:
        """Exactly `size` bytes at file `offset`; out of range is an `AnalyzerError`."""
        return _read_at(self.stream, self.headers.size, offset, size)

    def read_section(self, section: Section, limit: int) -> bytes:
        """A section's bytes, refusing sections larger than `limit`."""
        if section.nobits:
            return b""
        if section.size > limit:
            msg = f"section {section.name} larger than {limit} bytes"
            raise AnalyzerError(msg)
        return self.read_at(section.offset, section.size)


def _unpack(fmt: str, data: bytes, offset: int = 0) -> tuple[int, ...]:
    try:
        return struct.unpack_from(fmt, data, offset)
    except struct.error as exc:
        msg = f"truncated ELF header: {exc}"
        raise AnalyzerError(msg) from exc


def _table(elf_size: int, offset: int, entsize: int, count: int, minimum: int) -> None:
    if count > _MAX_HEADERS or (count and entsize < minimum):
        msg = "ELF header table has an impossible entry size or count"
        raise AnalyzerError(msg)
    if offset + entsize * count > elf_size:
        msg = "ELF header table extends past the end of the file"
        raise AnalyzerError(msg)


def _segments(
    stream: BinaryIO, elf: ElfHeaders, phoff: int, phentsize: int, phnum: int
) -> tuple[Segment, ...]:
    _table(elf.size, phoff, phentsize, phnum, 56 if elf.is64 else 32)
    raw = _read_at(stream, elf.size, phoff, phentsize * phnum)
    fmt = elf.endian + ("IIQQQQQQ" if elf.is64 else "IIIIIIII")
    found = []
    for i in range(phnum):
        fields = _unpack(fmt, raw, i * phentsize)
        if fields[0] != _PT_LOAD:
            continue
        if elf.is64:
            _, flags, offset, vaddr, _, filesz, _, _ = fields
        else:
            _, offset, vaddr, _, filesz, _, flags, _ = fields
        found.append(Segment(vaddr=vaddr, offset=offset, filesz=filesz, flags=flags))
    return tuple(found)


def _sections(
    stream: BinaryIO, elf: ElfHeaders, shoff: int, shentsize: int, shnum: int, shstrndx: int
) -> tuple[Section, ...]:
    if not shnum:
        return ()
    _table(elf.size, shoff, shentsize, shnum, 64 if elf.is64 else 40)
    raw = _read_at(stream, elf.size, shoff, shentsize * shnum)
    fmt = elf.endian + ("IIQQQQIIQQ" if elf.is64 else "IIIIIIIIII")
    headers = [_unpack(fmt, raw, i * shentsize) for i in range(shnum)]
    if shstrndx >= shnum:
        msg = "ELF section-name table index out of range"
        raise AnalyzerError(msg)
    names_hdr = headers[shstrndx]
    names = _read_at(stream, elf.size, names_hdr[4], min(names_hdr[5], _MAX_SHSTRTAB))
    sections = []
    for name_off, kind, _, addr, offset, size, *_ in headers:
        end = names.find(b"\0", name_off)
        name = names[name_off:end].decode("ascii", "replace") if end >= 0 else ""
        nobits = kind == 8  # SHT_NOBITS (.bss) occupies no file bytes
        sections.append(Section(name=name, addr=addr, offset=offset, size=size, nobits=nobits))
    return tuple(sections)


def read_headers(stream: BinaryIO) -> ElfHeaders:
    """Parse the ELF headers of a seekable stream; raises `AnalyzerError` for malformed ones."""
    size = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    ident = stream.read(64)
    if not ident.startswith(ELF_MAGIC) or len(ident) < 52:
        msg = "not an ELF file or truncated ELF header"
        raise AnalyzerError(msg)
    elf_class, data = ident[4], ident[5]
    if elf_class not in (1, 2) or data not in (1, 2):
        msg = "unknown ELF class or byte order"
        raise AnalyzerError(msg)
    is64, endian = elf_class == 2, "<" if data == 1 else ">"
    if is64:
        phoff, shoff = _unpack(endian + "QQ", ident, 32)
        phentsize, phnum, shentsize, shnum, shstrndx = _unpack(endian + "HHHHH", ident, 54)
    else:
        phoff, shoff = _unpack(endian + "II", ident, 28)
        phentsize, phnum, shentsize, shnum, shstrndx = _unpack(endian + "HHHHH", ident, 42)
    elf = ElfHeaders(size, is64, endian, (), ())
    segments = _segments(stream, elf, phoff, phentsize, phnum) if phnum else ()
    sections = _sections(stream, elf, shoff, shentsize, shnum, shstrndx)
    return ElfHeaders(size, is64, endian, sections, segments)


def _headers_of(file: AnalyzerInput) -> ElfHeaders:
    with file.open() as stream:
        return read_headers(stream)


def elf_headers(file: AnalyzerInput) -> ElfHeaders:
    """The ELF headers of an analyzer input, parsed once however many analyzers ask."""
    return file.derived(_headers_of)
