"""Hostile input: every analyzer ends in a clear AnalyzerError, fast and within memory bounds."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import pytest

from tests.support import lang_binaries as lb
from tidegate.scanner.analyzers.base import AnalyzerError, AnalyzerInput, FileInfo
from tidegate.scanner.analyzers.lang import java_archive
from tidegate.scanner.analyzers.lang.gobinary import GoBinaryAnalyzer
from tidegate.scanner.analyzers.lang.java import JavaArchiveAnalyzer
from tidegate.scanner.analyzers.lang.pnpm_lock import PnpmLockAnalyzer
from tidegate.scanner.analyzers.lang.rust import RustBinaryAnalyzer, inflate_bounded

MAX_PEAK = 64 << 20  # far below what any of these inputs would cost if read naively


def _input(path: str, data: bytes, mode: int = 0o755) -> AnalyzerInput:
    return AnalyzerInput(
        PurePosixPath(path),
        FileInfo(len(data), mode),
        lambda: io.BytesIO(data),
        lambda: Path("/nonexistent"),
    )


def _bounded_error(analyzer: object, item: AnalyzerInput, match: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(AnalyzerError, match=match):
            list(analyzer.analyze(item))  # type: ignore[attr-defined]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_PEAK


def _bomb_entry(size: int) -> bytes:
    """A jar holding one entry of `size` zero bytes (deflate squeezes it ~1000:1)."""
    out = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("lib/bomb.jar", "w", force_zip64=True) as member,
    ):
        for _ in range(size >> 20):
            member.write(chunk)
    return out.getvalue()


def test_zip_bomb_is_refused_by_ratio() -> None:
    data = _bomb_entry(64 << 20)
    assert len(data) < 1 << 20
    _bounded_error(JavaArchiveAnalyzer(), _input("app/bomb.jar", data, 0o644), "zip bomb")


def test_byte_budget_counts_real_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the ratio check out of the way, counting decompressed bytes still stops a bomb."""
    data = _bomb_entry(8 << 20)
    monkeypatch.setattr(java_archive, "MAX_RATIO", 10**9)
    monkeypatch.setattr("tidegate.scanner.analyzers.lang.java.DECOMPRESSION_BUDGET", 1 << 20)
    _bounded_error(JavaArchiveAnalyzer(), _input("app/x.jar", data, 0o644), "budget")


def test_deeply_nested_jars_are_refused() -> None:
    jar = lb.maven_jar("g", "a", "1")
    for depth in range(java_archive.MAX_DEPTH + 2):
        jar = lb.zip_bytes({f"lib/level{depth}.jar": jar}, stored=True)
    _bounded_error(JavaArchiveAnalyzer(), _input("app/deep.jar", jar, 0o644), "nested more than")


def test_too_many_entries_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(java_archive, "MAX_ENTRIES", 10)
    jar = lb.zip_bytes({f"c{i}.class": b"" for i in range(11)})
    _bounded_error(JavaArchiveAnalyzer(), _input("app/many.jar", jar, 0o644), "more than 10")


def test_truncated_go_build_info_string() -> None:
    elf = bytearray(lb.go_elf("go1.21.3", ("path\tx", "mod\tx\tv1.0.0\t")))
    magic_at = elf.index(lb.GO_MAGIC)
    version_len = elf[magic_at + 32]
    mod_len_at = magic_at + 33 + version_len
    elf[mod_len_at : mod_len_at + 3] = bytes([0xFF, 0xFF, 0x7F])  # ~2 MiB claimed, file is 4 KiB
    _bounded_error(GoBinaryAnalyzer(), _input("usr/bin/x", bytes(elf)), "past the end")


def test_go_pointer_outside_the_file() -> None:
    elf = bytearray(lb.go_elf("go1.16.15", ("path\tx",), inline=False))
    magic_at = elf.index(lb.GO_MAGIC)
    elf[magic_at + 16 : magic_at + 24] = struct.pack("<Q", 0xDEAD0000)
    _bounded_error(GoBinaryAnalyzer(), _input("usr/bin/x", bytes(elf)), "not backed")


def test_garbage_elf_section_table() -> None:
    elf = bytearray(lb.elf64([(".text", b"\x90" * 64)]))
    struct.pack_into("<Q", elf, 40, 1 << 60)  # e_shoff far past the end
    _bounded_error(RustBinaryAnalyzer(), _input("usr/bin/x", bytes(elf)), "past the end")


def test_auditable_zlib_bomb_stops_at_the_cap() -> None:
    bomb = zlib.compress(b" " * (64 << 20), 9)
    with pytest.raises(AnalyzerError, match="inflates past"):
        inflate_bounded(bomb, 1 << 20)
    elf = lb.elf64([(".dep-v0", bomb)])
    _bounded_error(RustBinaryAnalyzer(), _input("usr/bin/x", elf), "inflates past")


def test_yaml_alias_bomb_is_cheap() -> None:
    """Billion laughs: aliases are shared objects, and only top levels are walked."""
    lines = ["lockfileVersion: '9.0'", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    lines.append("packages: *a9")
    item = _input("srv/pnpm-lock.yaml", "\n".join(lines).encode(), 0o644)
    tracemalloc.start()
    try:
        assert list(PnpmLockAnalyzer().analyze(item)) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_PEAK
