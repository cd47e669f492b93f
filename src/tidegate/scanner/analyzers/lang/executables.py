"""Which files are worth opening as native executables, decided from metadata and magic bytes."""

from __future__ import annotations

import stat
from pathlib import PurePosixPath
from typing import BinaryIO, ClassVar

from tidegate.scanner.analyzers.base import FileInfo, Prefilter
from tidegate.scanner.analyzers.lang.elf import ELF_MAGIC

# Smaller than any real Go or Rust binary; keeps shell scripts and tiny stubs out cheaply.
MIN_EXECUTABLE_SIZE = 4096
# The pre-filter of analyzers whose `required` is `is_candidate_executable`.
EXECUTABLES = Prefilter(suffixes=(".exe",), executable=True)
MACHO_MAGICS = frozenset(
    {b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe"}
)


def is_candidate_executable(path: PurePosixPath, info: FileInfo) -> bool:
    """A regular file with an executable bit (or a `.exe`) of plausible size.

    There is no upper bound here on purpose: the walk skips files over `max_file_size` with a
    recorded warning, which a huge binary deserves.
    """
    if info.size < MIN_EXECUTABLE_SIZE:
        return False
    if stat.S_IFMT(info.mode) not in (0, stat.S_IFREG):
        return False
    return bool(info.mode & 0o111) or path.suffix.lower() == ".exe"


def sniff_format(stream: BinaryIO) -> str:
    """ "elf", "macho", "pe" or "" from the first bytes; leaves the stream at offset 0."""
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    if head == ELF_MAGIC:
        return "elf"
    if head in MACHO_MAGICS:
        return "macho"
    if head[:2] == b"MZ":
        return "pe"
    return ""


class ExecutableAnalyzer:
    """The selection shared by analyzers of native executables (Go, Rust): files that
    `is_candidate_executable` accepts, pre-filtered by `EXECUTABLES`, which must match it."""

    max_file_size: ClassVar[int] = 512 << 20
    prefilter: ClassVar[Prefilter] = EXECUTABLES

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        """Executable regular files of plausible size; the format is checked in `analyze`."""
        return is_candidate_executable(path, info)
