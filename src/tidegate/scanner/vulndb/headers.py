"""Merging one vulnerability's headers from several sources, for `VulnStore.get`."""

from __future__ import annotations

from dataclasses import replace

from tidegate.scanner.severity import resolve
from tidegate.scanner.vulndb.model import Advisory
from tidegate.scanner.vulndb.updaters.feeds import precedence


def merge_headers(
    vuln_id: str, group: list[Advisory], score: float | None, *, kev: bool
) -> Advisory:
    """One header for `vuln_id` from every source's record of it (or of its aliases).

    Text comes from the first source that has it, preferring records whose own id is
    `vuln_id`, then by source precedence; lists are unions.
    """
    group = sorted(group, key=lambda a: (a.id != vuln_id, -precedence(a.source), a.source))
    first = group[0]
    alias_set = {a for adv in group for a in (adv.id, *adv.aliases)} - {vuln_id}
    return replace(
        first,
        id=vuln_id,
        aliases=tuple(sorted(alias_set)),
        related=tuple(sorted({r for adv in group for r in adv.related})),
        summary=next((a.summary for a in group if a.summary), ""),
        details=next((a.details for a in group if a.details), ""),
        published=next((a.published for a in group if a.published), ""),
        modified=max((a.modified for a in group), default=""),
        severities=tuple(dict.fromkeys(s for adv in group for s in adv.severities)),
        references=tuple(dict.fromkeys(r for adv in group for r in adv.references)),
        known_exploited=kev,
        severity=resolve(None, score),
        score=score,
        sources=tuple(sorted({a.source for a in group})),
    )
