"""The analyzer plugin seam: analyzers declare the files they need and turn each into packages.

The inventory builder walks each layer once; for every regular file it asks each registered
analyzer whether it is `required`, keeps only those files (spooled to scratch space), and then
calls `analyze` with an `AnalyzerInput`. Analyzers never walk the filesystem themselves.
`required` is only asked about files that pass the analyzer's declarative `prefilter`, so a
layer's thousands of irrelevant files cost a dictionary lookup each rather than a call per
analyzer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, ClassVar, Protocol, TypeVar, cast

from tidegate.scanner.model import Package


class AnalyzerError(Exception):
    """An analyzer could not read one file; recorded as a `ScanWarning`, the scan goes on."""


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What the walk knows about a file before reading it."""

    size: int
    mode: int = 0o644


@dataclass(frozen=True, slots=True)
class Prefilter:
    """Which files an analyzer might want, judged from the name and mode alone.

    It must accept a superset of what `required` accepts (a test holds every analyzer to
    that): it only spares `required` the files that certainly are not wanted. A file is a
    candidate when its image-relative path is in `paths`, its base name is in `names`, its
    parent directory is in `parents`, its lower-cased base name ends with one of `suffixes`
    (lower-case ASCII), or `executable` is set and the mode has an executable bit.
    """

    paths: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    parents: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    executable: bool = False


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AnalyzerInput:
    """One required file handed to an analyzer.

    `path` is relative to the image root (no leading "/"). `open` returns a fresh seekable
    binary stream each call; `local_path` materialises the file in scratch space for readers
    that need a real path (SQLite, BerkeleyDB). One input is shared by every analyzer that
    wants the file, so `derived` can spare them parsing the same bytes twice.
    """

    path: PurePosixPath
    info: FileInfo
    open: Callable[[], BinaryIO]
    local_path: Callable[[], Path]
    _derived: dict[Callable[[AnalyzerInput], object], object] = field(
        default_factory=dict, repr=False, compare=False
    )

    def read_utf8(self) -> str:
        """The whole file as strict UTF-8 text; `AnalyzerError` when it is not."""
        with self.open() as fh:
            try:
                return fh.read().decode("utf-8")
            except UnicodeDecodeError as exc:
                msg = f"not UTF-8: {exc}"
                raise AnalyzerError(msg) from exc

    def derived(self, compute: Callable[[AnalyzerInput], T]) -> T:
        """`compute(self)`, computed once per file however many analyzers ask for it.

        Keyed by the function itself, so the cached value always has `compute`'s type.
        A `compute` that raises caches nothing: the next caller runs it (and fails) again.
        """
        if compute not in self._derived:
            self._derived[compute] = compute(self)
        return cast("T", self._derived[compute])


class Analyzer(Protocol):
    """Turns required files into packages. Registered with `register`, stored with results."""

    name: ClassVar[str]  # path-like: "os/dpkg", "lang/python"
    version: ClassVar[int]  # bump to invalidate cached layer results of this analyzer
    max_file_size: ClassVar[int]  # larger files are skipped with a warning
    prefilter: ClassVar[Prefilter]  # a cheap superset of `required`

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        """Whether the walk should keep this file for `analyze`; must be cheap."""
        ...

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """Packages declared by the file; raises `AnalyzerError` for unreadable content."""
        ...


ANALYZERS: dict[str, type[Analyzer]] = {}

A = TypeVar("A", bound=type[Analyzer])


def register(cls: A) -> A:
    """Add an analyzer class to `ANALYZERS`; a duplicate name is a programming error."""
    if cls.name in ANALYZERS:
        msg = f"analyzer {cls.name!r} registered twice"
        raise RuntimeError(msg)
    ANALYZERS[cls.name] = cls
    return cls
