"""Decide which selectors might want a layer member, from its name and mode, in O(1).

A layer holds thousands of files nobody wants (docs, locales, Python sources). Asking every
analyzer's `required` about each of them cost more than the rest of the walk, so the
selectors' `Prefilter`s are merged into one index: a dictionary lookup per path, base name
and parent directory, one `str.endswith` over all suffixes and a mode test reject most files,
and only the few candidates left reach `required`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from tidegate.scanner.analyzers.base import FileInfo, Prefilter

_EXEC_BITS = 0o111


@dataclass(frozen=True, slots=True)
class Selector:
    """Who wants files: a name, a cheap predicate, its pre-filter and the largest file it takes.

    `prefilter` must accept a superset of what `required` accepts.
    """

    name: str
    required: Callable[[PurePosixPath, FileInfo], bool]
    max_file_size: int
    prefilter: Prefilter


def _bucket(pairs: Iterable[tuple[str, int]]) -> dict[str, tuple[int, ...]]:
    out: dict[str, list[int]] = {}
    for key, position in pairs:
        out.setdefault(key, []).append(position)
    return {key: tuple(positions) for key, positions in out.items()}


class SelectorIndex:
    """The union of the selectors' pre-filters; `candidates` keeps the selectors' order."""

    def __init__(self, selectors: Sequence[Selector]) -> None:
        self.selectors = tuple(selectors)
        filters = [(i, s.prefilter) for i, s in enumerate(self.selectors)]
        self._paths = _bucket((p, i) for i, f in filters for p in f.paths)
        self._names = _bucket((n, i) for i, f in filters for n in f.names)
        self._parents = _bucket((d, i) for i, f in filters for d in f.parents)
        self._by_suffix = tuple((s, i) for i, f in filters for s in f.suffixes)
        self._suffixes = tuple(dict.fromkeys(s for s, _ in self._by_suffix))
        self._executable = tuple(i for i, f in filters if f.executable)

    def candidates(self, path: str, mode: int) -> tuple[Selector, ...]:
        """Selectors whose pre-filter accepts the normalised member `path` with `mode`."""
        parent, _, base = path.rpartition("/")
        if not (base.isascii() and base.isprintable()):
            # Suffixes are matched on ASCII lower case; a name outside plain printable ASCII
            # (Unicode case folding, a trailing newline that `$` in a regex accepts) is left
            # to `required` itself, which costs little since real images rarely have one.
            return self.selectors
        found = self._paths.get(path, ()) + self._names.get(base, ())
        found += self._parents.get(parent, ())
        if mode & _EXEC_BITS:
            found += self._executable
        lowered = base.lower()
        if lowered.endswith(self._suffixes):
            found += tuple(i for suffix, i in self._by_suffix if lowered.endswith(suffix))
        if not found:
            return ()
        if len(found) == 1:
            return (self.selectors[found[0]],)
        return tuple(self.selectors[i] for i in sorted(set(found)))
