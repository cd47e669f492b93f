"""Metering: every enhanced scan is an initial scan or a re-scan; basic scans are free."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tidegate import schema as t
from tidegate.config import Settings, UsageSection
from tidegate.db import bulk_insert, reading

DEFAULT_INITIAL_RATE = UsageSection().initial_scan_rate
DEFAULT_RESCAN_RATE = UsageSection().rescan_rate


def month_of(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m")


def record(conn: Connection, repository_name: str, digest: str, kind: str, now: float) -> None:
    conn.execute(
        sa.insert(t.scan_usage).values(
            repository_name=repository_name, digest=digest, kind=kind, month=month_of(now),
            scanned_at=now,
        )
    )  # fmt: skip


def record_many(conn: Connection, images: list[tuple[str, str]], kind: str, now: float) -> None:
    """One usage row per (repository name, digest)."""
    month = month_of(now)
    bulk_insert(
        conn,
        t.scan_usage,
        [{"repository_name": r, "digest": d, "kind": kind, "month": month, "scanned_at": now}
         for r, d in images],
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class UsageLine:
    month: str
    repository_name: str
    initial_scans: int
    rescans: int
    cost: float


def report(
    conn: Connection,
    *,
    month: str | None = None,
    repository: str | None = None,
    initial_rate: float = DEFAULT_INITIAL_RATE,
    rescan_rate: float = DEFAULT_RESCAN_RATE,
) -> list[UsageLine]:
    """Scans per month and repository, priced at the given rates."""
    u = t.scan_usage
    query = sa.select(u.c.month, u.c.repository_name, u.c.kind, sa.func.count()).group_by(
        u.c.month, u.c.repository_name, u.c.kind
    )
    if month:
        query = query.where(u.c.month == month)
    if repository:
        query = query.where(u.c.repository_name == repository)
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for m, repo, kind, n in conn.execute(query):
        counts.setdefault((m, repo), {})[kind] = int(n)
    lines = []
    for (m, repo), kinds in sorted(counts.items()):
        initial, rescans = kinds.get("initial", 0), kinds.get("rescan", 0)
        cost = round(initial * initial_rate + rescans * rescan_rate, 4)
        lines.append(UsageLine(m, repo, initial, rescans, cost))
    return lines


def usage_report(
    engine: Engine, settings: Settings, *, month: str | None, repository: str | None
) -> dict[str, object]:
    """The usage document at the configured rates, in its own read transaction."""
    rates = rates_from(settings)
    with reading(engine) as conn:
        lines = report(
            conn, month=month, repository=repository, initial_rate=rates[0], rescan_rate=rates[1]
        )
    return as_document(lines, rates)


def rates_from(settings: Settings) -> tuple[float, float]:
    """(initial, re-scan) USD rates of the `[usage]` table (parsed once by `config`)."""
    return settings.usage.initial_scan_rate, settings.usage.rescan_rate


def as_document(lines: list[UsageLine], rates: tuple[float, float]) -> dict[str, object]:
    """The report as JSON: one entry per month and repository, plus totals."""
    return {
        "rates": {"initialScan": rates[0], "rescan": rates[1], "currency": "USD"},
        "lines": [
            {"month": ln.month, "repository": ln.repository_name,
             "initialScans": ln.initial_scans, "rescans": ln.rescans, "cost": ln.cost}
            for ln in lines
        ],
        "total": {
            "initialScans": sum(ln.initial_scans for ln in lines),
            "rescans": sum(ln.rescans for ln in lines),
            "cost": round(sum(ln.cost for ln in lines), 4),
        },
    }  # fmt: skip
