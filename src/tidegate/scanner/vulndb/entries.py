"""One package key's stored advisories, fetched as one blob and decoded only as far as asked.

A scan asks one question per package: which advisories affect this version? Most stored
entries do not (the installed package is newer than their fix), so `affecting` evaluates
the stored ranges in their stored shape and builds `Advisory` objects only for the entries
that match. Building every entry's objects costs ~15x more than fetching the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from tidegate.scanner.versions import Verdict, scheme_for
from tidegate.scanner.versions.ranges import Installed, evaluate_indexed
from tidegate.scanner.versions.schemes import UnknownEcosystem
from tidegate.scanner.vulndb.codec import decode_entry, entry_row, unpack
from tidegate.scanner.vulndb.model import Advisory

_VERSIONS_KEPT = 8  # per key; a long tail of versions of one package is rare


class PackageEntries:
    """The entries (`codec.entry_row` arrays) of one (namespace, name) key, lazily decoded.

    Immutable in meaning: the lazily filled members only cache what the blob already says,
    so a shared instance is safe to read from several threads.
    """

    __slots__ = ("_advisories", "_blob", "_rows", "_verdicts", "name", "namespace")

    def __init__(
        self,
        namespace: str,
        name: str,
        blob: bytes | None = None,
        rows: list[list[Any]] | None = None,
    ) -> None:
        self.namespace = namespace
        self.name = name
        self._blob = blob
        self._rows = rows if rows is not None or blob is not None else []
        self._advisories: list[Advisory | None] | None = None  # decoded on first use
        # A fleet's images share base layers, so one key is asked about a few versions many
        # times; the answer depends only on the blob and the version.
        self._verdicts: dict[str, list[tuple[Advisory, Verdict]]] = {}

    @classmethod
    def of(cls, namespace: str, name: str, advisories: Iterable[Advisory]) -> PackageEntries:
        """The entries a DB built from `advisories` would store for this key."""
        rows = [
            entry_row(adv, pkg)
            for adv in advisories
            for pkg in adv.affected
            if pkg.namespace == namespace and pkg.name == name
        ]
        # Through JSON, so the arrays are exactly what a stored blob decodes to.
        return cls(namespace, name, rows=orjson.loads(orjson.dumps(rows)))

    def __bool__(self) -> bool:
        return self._blob is not None or bool(self._rows)

    @property
    def rows(self) -> list[list[Any]]:
        """The stored arrays: id, aliases, ranges, versions, fix, fixed version, ..."""
        rows = self._rows
        if rows is None:
            assert self._blob is not None
            rows = self._rows = unpack(self._blob)
        return rows

    def advisories(self) -> list[Advisory]:
        """Every entry as an Advisory whose `affected` is this one package (details omitted)."""
        return [self._advisory(i) for i in range(len(self.rows))]

    def _advisory(self, index: int) -> Advisory:
        decoded = self._advisories
        if decoded is None:
            decoded = self._advisories = [None] * len(self.rows)
        adv = decoded[index]
        if adv is None:
            adv = decoded[index] = decode_entry(self.namespace, self.name, self.rows[index])
        return adv

    def only(self, ids: frozenset[str]) -> PackageEntries:
        """The entries whose vulnerability id is in `ids`."""
        return PackageEntries(self.namespace, self.name, rows=[r for r in self.rows if r[0] in ids])

    def affecting(self, version: str) -> list[tuple[Advisory, Verdict]]:
        """The advisories that affect `version` (AFFECTED) or cannot rule it out (UNKNOWN)."""
        known = self._verdicts.get(version)
        if known is not None:
            return list(known)
        rows = self.rows
        if not rows:
            return []
        try:
            scheme = scheme_for(self.namespace)
        except UnknownEcosystem:
            return [(adv, Verdict.UNKNOWN) for adv in self.advisories()]
        installed = Installed(scheme, version)
        out: list[tuple[Advisory, Verdict]] = []
        for i, row in enumerate(rows):
            verdict = evaluate_indexed(installed, row[2], row[3])
            if verdict is not Verdict.NOT_AFFECTED:
                out.append((self._advisory(i), verdict))
        if len(self._verdicts) >= _VERSIONS_KEPT:
            self._verdicts.clear()
        self._verdicts[version] = out
        return list(out)
