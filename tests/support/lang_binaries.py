"""Tiny, well-formed binaries for language-analyzer tests: ELF files, Go build info, jars.

The ELF writer emits a real little-endian x86-64 executable layout (header, one writable
PT_LOAD segment covering every section, a section-name table), which Go's own `debug/elf`
and binutils' `readelf` accept; the tests use `go version -m` on these files as an oracle.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence

GO_MAGIC = b"\xff Go buildinf:"
# The sentinels Go's linker wraps module info in (16 bytes each, cmd/go/internal/modload).
GO_SENTINEL_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
GO_SENTINEL_END = bytes.fromhex("f932433186182072008242104116d8f2")
BASE_ADDR = 0x400000
_EHDR, _PHDR, _SHDR = 64, 56, 64


def elf64(sections: Sequence[tuple[str, bytes]]) -> bytes:
    """An ELF64 executable whose sections are laid out at file offset == vaddr - BASE_ADDR."""
    body = bytearray()
    placed = []
    offset = _EHDR + _PHDR
    for name, data in sections:
        pad = (-offset) % 16
        body += b"\0" * pad
        offset += pad
        placed.append((name, offset, len(data)))
        body += data
        offset += len(data)
    names = b"\0" + b"".join(n.encode() + b"\0" for n, _ in sections) + b".shstrtab\0"
    shstrtab_off = offset
    body += names
    offset += len(names)
    pad = (-offset) % 8
    body += b"\0" * pad
    shoff = offset + pad
    shnum = len(sections) + 2
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    header += struct.pack(
        "<HHIQQQIHHHHHH",
        2,
        62,
        1,
        BASE_ADDR,
        _EHDR,
        shoff,
        0,
        _EHDR,
        _PHDR,
        1,
        _SHDR,
        shnum,
        shnum - 1,
    )
    load_size = shstrtab_off
    phdr = struct.pack("<IIQQQQQQ", 1, 6, 0, BASE_ADDR, BASE_ADDR, load_size, load_size, 0x1000)
    shdrs = b"\0" * _SHDR
    name_off = 1
    for name, off, size in placed:
        shdrs += struct.pack("<IIQQQQIIQQ", name_off, 1, 3, BASE_ADDR + off, off, size, 0, 0, 16, 0)
        name_off += len(name) + 1
    shdrs += struct.pack("<IIQQQQIIQQ", name_off, 3, 0, 0, shstrtab_off, len(names), 0, 0, 1, 0)
    image = header + phdr + body + shdrs
    # real executables are never this small; analyzers ignore files under 4 KiB
    return bytes(image + b"\0" * max(0, 4096 - len(image)))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def wrap_modinfo(lines: Sequence[str]) -> bytes:
    """Module info text between Go's sentinels."""
    return GO_SENTINEL_START + "".join(f"{line}\n" for line in lines).encode() + GO_SENTINEL_END


def go_buildinfo_inline(go_version: str, modinfo: bytes) -> bytes:
    """Go 1.18+ layout: 32-byte header, then two varint-prefixed strings."""
    header = GO_MAGIC + bytes([8, 2]) + b"\0" * 16
    version = go_version.encode()
    return header + _varint(len(version)) + version + _varint(len(modinfo)) + modinfo


def go_buildinfo_pointers(go_version: str, modinfo: bytes, section_addr: int) -> bytes:
    """Pre-1.18 layout: header holding pointers to Go string headers (ptr, len)."""
    version = go_version.encode()
    headers_at = section_addr + 32
    data_at = headers_at + 32
    blob = GO_MAGIC + bytes([8, 0])
    blob += struct.pack("<QQ", headers_at, headers_at + 16)
    blob += struct.pack("<QQ", data_at, len(version))
    blob += struct.pack("<QQ", data_at + len(version), len(modinfo))
    return blob + version + modinfo


def go_elf(go_version: str, lines: Sequence[str], *, inline: bool = True) -> bytes:
    """An ELF whose `.go.buildinfo` section holds the given build info.

    The section is padded like the linker pads it: Go's reader wants bytes after the strings.
    """
    modinfo = wrap_modinfo(lines) if lines else b""
    text = (".text", b"\xc3" * 64)
    if inline:
        blob = go_buildinfo_inline(go_version, modinfo)
    else:
        # .text sits at offset 120 padded to 128, so .go.buildinfo starts at 192 (16-aligned)
        blob = go_buildinfo_pointers(go_version, modinfo, BASE_ADDR + 192)
    return elf64([text, (".go.buildinfo", blob + b"\0" * 16)])


def auditable_elf(packages: Sequence[Mapping[str, object]]) -> bytes:
    """An ELF carrying cargo-auditable data (zlib JSON in `.dep-v0`)."""
    payload = zlib.compress(json.dumps({"packages": list(packages)}).encode())
    return elf64([(".text", b"\xc3" * 64), (".dep-v0", payload)])


def zip_bytes(entries: Mapping[str, bytes], *, stored: bool = False) -> bytes:
    """A zip (jar, war, egg) with fixed timestamps, so the bytes are reproducible."""
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2021, 12, 10, 0, 0, 0)), data)
    return out.getvalue()


def pom_properties(group: str, artifact: str, version: str) -> bytes:
    """A pom.properties as maven-archiver writes it."""
    return (
        f"#Created by Apache Maven 3.6.3\nversion={version}\ngroupId={group}\n"
        f"artifactId={artifact}\n"
    ).encode()


def maven_jar(group: str, artifact: str, version: str, extra: Mapping[str, bytes] = {}) -> bytes:
    """A jar laid out like a Maven build: manifest plus META-INF/maven/<g>/<a>/pom.properties."""
    base = f"META-INF/maven/{group}/{artifact}/"
    entries = {
        "META-INF/MANIFEST.MF": (
            f"Manifest-Version: 1.0\r\nImplementation-Title: {artifact}\r\n"
            f"Implementation-Version: {version}\r\n\r\n"
        ).encode(),
        base + "pom.properties": pom_properties(group, artifact, version),
        base + "pom.xml": b"<project/>\n",
    }
    return zip_bytes({**entries, **extra})
