"""Alias merging and severity resolution for one package key.

All records that name the same vulnerability (by id or alias: CVE, GHSA, PYSEC, GO, DSA ...)
on one package become one entry listing every alias. The ranges come from the sources with
the highest precedence (a distribution's own feed for its packages). Severity follows
`scanner.severity.resolve`: the feed's own rating when there is one, else the preferred
CVSS base score (joined by alias) on the NVD scale, else UNDEFINED.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import orjson

from tidegate.scanner.severity import resolve
from tidegate.scanner.vulndb.model import FixState
from tidegate.scanner.vulndb.updaters.common import CVE_RE

Row = list[Any]  # codec.entry_row layout
T = TypeVar("T")
_ID, _ALIASES, _RANGES, _VERSIONS, _FIX, _FIXED, _SEV, _SCORE, _KEV, _DISTRO, _SOURCES = range(11)


def primary_id(ids: Iterable[str]) -> str:
    """The id a merged vulnerability is shown under: a CVE, else a GHSA, else the smallest."""
    ordered = sorted(set(ids))
    for pick in (lambda i: CVE_RE.fullmatch(i), lambda i: i.startswith("GHSA-")):
        found = [i for i in ordered if pick(i)]
        if found:
            return found[0]
    return ordered[0]


def same_vulnerability(items: Sequence[T], ids_of: Callable[[T], Iterable[str]]) -> list[list[T]]:
    """`items` grouped by the vulnerability they describe, in first-seen order.

    Records sharing a CVE id are one vulnerability (a record naming two CVEs joins them: the
    record itself says they are one). A record naming no CVE (GHSA, PYSEC, GO, a DLA that
    lists none) joins the records it shares an id with, when they are one vulnerability.
    Other shared ids join nothing: a DSA/DLA/ALSA fixing five CVEs is fanned out into five
    records that each carry its id as an alias, and they stay five vulnerabilities.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(keep: str, other: str) -> None:
        a, b = find(keep), find(other)
        if a != b:
            parent[b] = a

    all_ids = [list(dict.fromkeys(ids_of(item))) for item in items]
    node: list[str] = []  # each item's union-find node: its first CVE, else its first id
    cve_free: set[str] = set()  # the ids of records that name no CVE
    for ids in all_ids:
        cves = [i for i in ids if CVE_RE.fullmatch(i)]
        for other in (cves or ids)[1:]:
            union((cves or ids)[0], other)
        node.append((cves or ids)[0])
        if not cves:
            cve_free.update(ids)
    if cve_free:
        # CVE ids and other ids never share a node, so only this step links the two kinds
        links: dict[str, set[str]] = {}
        for ids, first in zip(all_ids, node, strict=True):
            if CVE_RE.fullmatch(first):
                for i in ids:
                    if i in cve_free:
                        links.setdefault(find(i), set()).add(find(first))
        for root, cve_roots in links.items():
            if len(cve_roots) == 1:  # shared with two CVEs: an advisory id, not an alias
                union(next(iter(cve_roots)), root)
    out: dict[str, list[T]] = {}
    for item, first in zip(items, node, strict=True):
        out.setdefault(find(first), []).append(item)
    return list(out.values())


def _row_ids(item: tuple[str, Row]) -> list[str]:
    return [item[1][_ID], *item[1][_ALIASES]]


def merge_key(
    rows: list[tuple[str, Row]],
    precedence: Callable[[str], int],
    scores: Mapping[str, float],
    kev: set[str] | frozenset[str],
) -> list[Row]:
    """Merge one key's (source, entry row) pairs into one row per vulnerability, by id."""
    merged = [_merge_group(g, precedence, scores, kev) for g in same_vulnerability(rows, _row_ids)]
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
