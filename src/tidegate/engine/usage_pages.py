"""The usage report one page at a time (the console): lines per month and repository paged
in SQL, and the per-month totals, so a page costs the same however many repositories and
months the registry has metered (`usage.report` builds the whole report, for the API)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.engine.usage import UsageLine


@dataclass(frozen=True, slots=True)
class UsagePage:
    lines: list[UsageLine]
    line_count: int  # lines (month, repository) in the whole selection
    months: dict[str, float]  # cost per month, oldest first
    total: float


def _kinds() -> tuple[sa.ColumnElement[int], sa.ColumnElement[int]]:
    u = t.scan_usage
    initial = sa.func.sum(sa.case((u.c.kind == "initial", 1), else_=0))
    rescans = sa.func.sum(sa.case((u.c.kind == "rescan", 1), else_=0))
    return initial, rescans


def usage_page(
    conn: Connection,
    *,
    month: str | None,
    repository: str | None,
    rates: tuple[float, float],
    offset: int,
    limit: int,
) -> UsagePage:
    u = t.scan_usage
    where = []
    if month:
        where.append(u.c.month == month)
    if repository:
        where.append(u.c.repository_name == repository)
    initial, rescans = _kinds()
    page = conn.execute(
        sa.select(u.c.month, u.c.repository_name, initial, rescans)
        .where(*where)
        .group_by(u.c.month, u.c.repository_name)
        .order_by(u.c.month, u.c.repository_name)
        .offset(offset)
        .limit(limit)
    )
    lines = [
        UsageLine(str(m), str(r), int(i), int(s), round(int(i) * rates[0] + int(s) * rates[1], 4))
        for m, r, i, s in page
    ]
    groups = sa.select(u.c.month, u.c.repository_name).where(*where).distinct().subquery()
    count = int(conn.execute(sa.select(sa.func.count()).select_from(groups)).scalar_one())
    months = {
        str(m): round(int(i) * rates[0] + int(s) * rates[1], 4)
        for m, i, s in conn.execute(
            sa.select(u.c.month, initial, rescans)
            .where(*where)
            .group_by(u.c.month)
            .order_by(u.c.month)
        )
    }
    return UsagePage(lines, count, months, round(sum(months.values()), 4))
