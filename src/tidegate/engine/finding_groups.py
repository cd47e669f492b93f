"""The Inspector views, one page at a time: findings grouped by vulnerability, repository,
image, layer or package, counted and ordered in SQL so a page costs one grouped query
instead of a pass over every finding in Python (`aggregate` does that for `/api/`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.engine.aggregate import FindingFilter, GroupBy
from tidegate.scanner.severity import LOW_AND_ABOVE
from tidegate.states import FindingStatus

COUNTED = LOW_AND_ABOVE


@dataclass(frozen=True, slots=True)
class GroupRow:
    key: dict[str, str]
    counts: dict[str, int]  # CRITICAL, HIGH, MEDIUM, LOW, and "all"
    images: int
    fixable: int
    exploitable: int


def _keys(group_by: GroupBy) -> list[tuple[str, sa.ColumnElement[Any]]]:
    f, r = t.findings, t.repositories
    match group_by:
        case GroupBy.VULNERABILITY:
            return [("vulnerabilityId", f.c.vuln_id)]
        case GroupBy.REPOSITORY:
            return [("repository", r.c.name)]
        case GroupBy.IMAGE:
            return [("repository", r.c.name), ("imageDigest", f.c.digest)]
        case GroupBy.LAYER:
            return [("repository", r.c.name), ("imageDigest", f.c.digest), ("layerHash", f.c.layer)]
        case GroupBy.PACKAGE:
            return [("packageName", f.c.package_name)]


def _where(flt: FindingFilter) -> list[sa.ColumnElement[bool]]:
    f, r = t.findings, t.repositories
    where: list[sa.ColumnElement[bool]] = []
    if flt.status is not None:
        where.append(f.c.status == flt.status)
    elif not flt.include_closed:
        where.append(f.c.status == FindingStatus.ACTIVE)
    if flt.severities:
        where.append(f.c.severity.in_([s.upper() for s in flt.severities]))
    if flt.fix_available:
        where.append(f.c.fix_available == flt.fix_available.upper())
    if flt.repository:
        where.append(r.c.name == flt.repository)
    if flt.text:
        where.append(
            sa.or_(
                f.c.vuln_id.contains(flt.text, autoescape=True),
                f.c.package_name.contains(flt.text, autoescape=True),
                r.c.name.contains(flt.text, autoescape=True),
            )
        )
    return where


def group_page(
    conn: Connection, group_by: GroupBy, flt: FindingFilter, *, offset: int, limit: int
) -> tuple[list[GroupRow], bool]:
    """One page of groups, worst first (critical, high, then all); `more` when another follows."""
    f, r = t.findings, t.repositories
    keys = _keys(group_by)
    per = [sa.func.sum(sa.case((f.c.severity == s, 1), else_=0)).label(s.lower()) for s in COUNTED]
    total = sa.func.count().label("total")
    image = sa.cast(f.c.repository_id, sa.String) + ":" + f.c.digest
    images = (
        sa.literal(1)
        if group_by in (GroupBy.IMAGE, GroupBy.LAYER)
        else sa.func.count(sa.distinct(image))
    ).label("images")
    fixable = sa.func.sum(sa.case((f.c.fix_available == "YES", 1), else_=0)).label("fixable")
    exploitable = sa.func.sum(sa.case((f.c.exploit_available == "YES", 1), else_=0)).label("kev")
    query = (
        sa.select(*[c.label(k) for k, c in keys], *per, total, images, fixable, exploitable)
        .select_from(f.join(r, r.c.id == f.c.repository_id))
        .where(*_where(flt))
        .group_by(*[c for _k, c in keys])
        .order_by(sa.desc("critical"), sa.desc("high"), sa.desc("total"), *[c for _k, c in keys])
        .offset(offset)
        .limit(limit + 1)
    )
    rows = list(conn.execute(query).mappings())
    out = [
        GroupRow(
            {k: str(m[k]) for k, _c in keys},
            {**{str(s): int(m[s.lower()] or 0) for s in COUNTED}, "all": int(m["total"])},
            int(m["images"]),
            int(m["fixable"] or 0),
            int(m["kev"] or 0),
        )
        for m in rows[:limit]
    ]
    return out, len(rows) > limit
