"""Alias merging and severity resolution for one package key.

All records that name the same vulnerability (by id or alias: CVE, GHSA, PYSEC, GO, DSA ...)
on one package become one entry listing every alias. The ranges come from the sources with
the highest precedence (a distribution's own feed for its packages). Severity follows
`scanner.severity.resolve`: the feed's own rating when there is one, else the preferred
CVSS base score (joined by alias) on the NVD scale, else UNDEFINED.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from tidegate.scanner.severity import resolve
from tidegate.scanner.vulndb.model import FixState
from tidegate.scanner.vulndb.updaters.common import CVE_RE

Row = list[Any]  # codec.entry_row layout
_ID, _ALIASES, _RANGES, _VERSIONS, _FIX, _FIXED, _SEV, _SCORE, _KEV, _DISTRO, _SOURCES = range(11)


def primary_id(ids: Iterable[str]) -> str:
    """The id a merged vulnerability is shown under: a CVE, else a GHSA, else the smallest."""
    ordered = sorted(set(ids))
    for pick in (lambda i: CVE_RE.fullmatch(i), lambda i: i.startswith("GHSA-")):
        found = [i for i in ordered if pick(i)]
        if found:
            return found[0]
    return ordered[0]


def _groups(rows: list[tuple[str, Row]]) -> list[list[tuple[str, Row]]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _, row in rows:
        root = find(row[_ID])
        for alias in row[_ALIASES]:
            other = find(alias)
            if other != root:
                parent[other] = root
    out: dict[str, list[tuple[str, Row]]] = {}
    for item in rows:
        out.setdefault(find(item[1][_ID]), []).append(item)
    return list(out.values())


def merge_key(
    rows: list[tuple[str, Row]],
    precedence: Callable[[str], int],
    scores: Mapping[str, float],
    kev: set[str] | frozenset[str],
) -> list[Row]:
    """Merge one key's (source, entry row) pairs into one row per vulnerability, by id."""
    merged = [_merge_group(g, precedence, scores, kev) for g in _groups(rows)]
    merged.sort(key=lambda r: r[_ID])
    return merged


def _merge_group(
    group: list[tuple[str, Row]],
    precedence: Callable[[str], int],
    scores: Mapping[str, float],
    kev: set[str] | frozenset[str],
) -> Row:
    if len(group) == 1:
        return _resolve_single(*group[0], scores, kev)
    ids = {r[_ID] for _, r in group} | {a for _, r in group for a in r[_ALIASES]}
    primary = primary_id(ids)
    best = max(precedence(s) for s, _ in group)
    chosen = [r for s, r in group if precedence(s) == best]
    fixed_rows = [r for r in chosen if r[_FIX] == FixState.FIXED.value]
    # A specific fix (a DSA) beats an open record for the same package and vulnerability.
    chosen = fixed_rows or chosen
    ranges: dict[bytes, Any] = {}
    for r in chosen:
        for rng in r[_RANGES]:
            ranges.setdefault(orjson.dumps(rng), rng)
    versions = sorted({v for r in chosen for v in r[_VERSIONS]})
    fixed = sorted({r[_FIXED] for r in chosen if r[_FIXED]})
    # The rating may sit on an open record (Debian's CVE entry) while a DSA gives the fix.
    top = [r for s, r in group if precedence(s) == best]
    distro = next((r for r in (*chosen, *top) if r[_DISTRO]), None)
    score = _score(primary, ids, scores)
    severity = distro[_SEV] if distro is not None else resolve(None, score).value
    return [
        primary,
        sorted(ids - {primary}),
        list(ranges.values()),
        versions,
        chosen[0][_FIX],
        ", ".join(fixed) or None,
        severity,
        score,
        any(i in kev for i in ids),
        distro[_DISTRO] if distro is not None else None,
        sorted({s for s, _ in group}),
    ]


def _score(primary: str, ids: set[str], scores: Mapping[str, float]) -> float | None:
    # The primary (usually the CVE, scored by NVD) first, then aliases in a stable order.
    for vid in (primary, *sorted(ids - {primary})):
        if vid in scores:
            return scores[vid]
    return None


def _resolve_single(
    source: str, row: Row, scores: Mapping[str, float], kev: set[str] | frozenset[str]
) -> Row:
    # The common case (one record per vulnerability and package) without set algebra.
    vid = row[_ID]
    aliases = row[_ALIASES]
    if aliases:
        primary = primary_id([vid, *aliases])
        if primary != vid:
            aliases = sorted({vid, *aliases} - {primary})
            vid = row[_ID] = primary
            row[_ALIASES] = aliases
    score = scores.get(vid)
    if score is None and aliases:
        score = _score(vid, {vid, *aliases}, scores)
    if not row[_DISTRO]:
        row[_SEV] = resolve(None, score).value
    row[_SCORE] = score
    row[_KEV] = vid in kev or any(a in kev for a in aliases)
    row[_SOURCES] = [source]
    return row
