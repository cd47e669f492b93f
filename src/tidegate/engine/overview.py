"""Read models for the console's overview pages: repository summaries, coverage, open
findings by severity, the vulnerabilities hitting most images, known exploited findings and
the daily snapshot that gives the open-findings chart its history.

Per-repository and registry-wide severity totals come from `image_scans.severity_counts`
(kept current by every scan and re-scan), so they cost one narrow row per image instead of a
pass over the findings table.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tidegate import schema as t
from tidegate.engine.findings_view import SEVERITY_ORDER
from tidegate.registry.metadata import RepoRow, find_repo
from tidegate.states import SCANNED, FindingStatus, JobKind, ScanFrequency, ScanStatus

REPOSITORY_SORTS = ("name", "created", "images")


@dataclass(frozen=True, slots=True)
class RepositorySummary:
    repo: RepoRow
    image_count: int
    open_findings: dict[str, int]


@dataclass(frozen=True, slots=True)
class Coverage:
    images: int
    scanned: int  # COMPLETE or ACTIVE
    continuous: int  # ACTIVE under CONTINUOUS_SCAN
    in_progress: int  # PENDING or IN_PROGRESS
    failed: int
    unsupported: int
    never_scanned: int


def _counts(text: str | None) -> Counter[str]:
    return Counter({k: int(v) for k, v in json.loads(text or "{}").items()})


def repository_page(
    conn: Connection, *, text: str, sort: str, descending: bool, offset: int, limit: int
) -> tuple[list[RepositorySummary], int]:
    """One page of repositories (name contains `text`) and how many match in all."""
    r, m = t.repositories, t.manifests
    images = (
        sa.select(sa.func.count()).where(m.c.repository_id == r.c.id).scalar_subquery()
    ).label("images")
    where = [r.c.name.contains(text, autoescape=True)] if text else []
    column = {"name": r.c.name, "created": r.c.created_at, "images": images}[sort]
    order = column.desc() if descending else column.asc()
    query = (
        sa.select(r.c.name, images)
        .where(*where)
        .order_by(order, r.c.name)
        .offset(offset)
        .limit(limit)
    )
    found = list(conn.execute(query))
    total = int(conn.execute(sa.select(sa.func.count()).select_from(r).where(*where)).scalar_one())
    repos = {name: find_repo(conn, name) for name, _n in found}
    ids = [row.id for row in repos.values() if row is not None]
    severities: dict[int, Counter[str]] = {i: Counter() for i in ids}
    s = t.image_scans
    if ids:
        rows = conn.execute(
            sa.select(s.c.repository_id, s.c.severity_counts).where(
                s.c.repository_id.in_(ids), s.c.status.in_(SCANNED)
            )
        )
        for repo_id, counts in rows:
            severities[int(repo_id)].update(_counts(counts))
    out = []
    for name, count in found:
        repo = repos[name]
        if repo is not None:
            out.append(RepositorySummary(repo, int(count), dict(severities[repo.id])))
    return out, total


def repository_flags(conn: Connection, *, limit: int) -> list[tuple[str, bool]]:
    """Up to `limit` (name, scanOnPush) pairs in name order (the scanning rule preview)."""
    r = t.repositories
    query = sa.select(r.c.name, r.c.scan_on_push).order_by(r.c.name).limit(limit)
    return [(str(n), bool(flag)) for n, flag in conn.execute(query)]


def findings_stamp(conn: Connection) -> tuple[object, ...]:
    """Moves whenever open findings can have changed. Findings are written only by scan and
    re-match jobs (each ends by updating its `scan_jobs` row) and closed by image deletes
    (the image count drops); scan requests and completions move `image_scans`. Narrow
    tables only: the findings table is never read, and no index is added to its write path.
    Suppression rules move findings too: created, changed, deleted or lapsed."""
    j, s = t.scan_jobs, t.image_scans
    images = conn.execute(sa.select(sa.func.count()).select_from(t.manifests)).scalar()
    jobs = conn.execute(sa.select(sa.func.count(), sa.func.max(j.c.updated_at))).one()
    scans = conn.execute(
        sa.select(sa.func.count(), sa.func.max(s.c.requested_at), sa.func.max(s.c.completed_at))
    ).one()
    ff = t.finding_filters  # suppression rules move findings between ACTIVE and SUPPRESSED
    rules = conn.execute(
        sa.select(sa.func.count(), sa.func.max(ff.c.updated_at), sa.func.max(ff.c.lapsed_at))
    ).one()
    return (images, *jobs, *scans, *rules)


def coverage(conn: Connection) -> Coverage:
    """How many images exist and where their scans stand."""
    s = t.image_scans
    images = int(conn.execute(sa.select(sa.func.count()).select_from(t.manifests)).scalar_one())
    by: Counter[str] = Counter()
    continuous = 0
    query = sa.select(s.c.status, s.c.frequency, sa.func.count()).group_by(
        s.c.status, s.c.frequency
    )
    for status, frequency, n in conn.execute(query):
        by[str(status)] += int(n)
        if status == ScanStatus.ACTIVE and frequency == ScanFrequency.CONTINUOUS_SCAN:
            continuous += int(n)
    recorded = sum(by.values())
    return Coverage(
        images=images,
        scanned=by[ScanStatus.COMPLETE] + by[ScanStatus.ACTIVE],
        continuous=continuous,
        in_progress=by[ScanStatus.PENDING] + by[ScanStatus.IN_PROGRESS],
        failed=by[ScanStatus.FAILED],
        unsupported=by[ScanStatus.UNSUPPORTED_IMAGE],
        never_scanned=max(images - recorded, 0),
    )


def open_by_severity(conn: Connection) -> dict[str, int]:
    """Open findings per severity over every image's latest scan, worst first."""
    s = t.image_scans
    total: Counter[str] = Counter()
    query = sa.select(s.c.severity_counts).where(s.c.status.in_(SCANNED))
    for (counts,) in conn.execute(query):
        total.update(_counts(counts))
    return {str(sev): total[sev] for sev in SEVERITY_ORDER if total[sev]}


def top_vulnerabilities(conn: Connection, *, limit: int) -> list[dict[str, Any]]:
    """The vulnerabilities with open findings in the most images."""
    f = t.findings
    image = sa.cast(f.c.repository_id, sa.String) + ":" + f.c.digest
    n = sa.func.count(sa.distinct(image)).label("n")
    query = (
        sa.select(f.c.vuln_id, sa.func.max(f.c.severity), n)
        .where(f.c.status == FindingStatus.ACTIVE)
        .group_by(f.c.vuln_id)
        .order_by(n.desc(), f.c.vuln_id)
        .limit(limit)
    )
    return [
        {"vulnerabilityId": str(v), "severity": str(sev), "images": int(n)}
        for v, sev, n in conn.execute(query)
    ]


def known_exploited(conn: Connection, *, limit: int) -> list[dict[str, Any]]:
    """Open findings whose vulnerability is known to be exploited (CISA KEV), newest first."""
    f, r = t.findings, t.repositories
    query = (
        sa.select(f.c.vuln_id, f.c.severity, f.c.package_name, f.c.digest, r.c.name)
        .join(r, r.c.id == f.c.repository_id)
        .where(f.c.status == FindingStatus.ACTIVE, f.c.exploit_available == "YES")
        .order_by(f.c.first_observed_at.desc(), f.c.id)
        .limit(limit)
    )
    return [
        {"vulnerabilityId": v, "severity": sev, "package": pkg, "imageDigest": d, "repository": n}
        for v, sev, pkg, d, n in conn.execute(query)
    ]


def record_snapshot(conn: Connection, day: str, counts: dict[str, int], now: float) -> None:
    """Today's open findings per severity (rewritten while the day lasts)."""
    snap = t.findings_daily
    conn.execute(sa.delete(snap).where(snap.c.day == day))
    rows = [
        {"day": day, "severity": sev, "open_count": counts.get(sev, 0), "recorded_at": now}
        for sev in SEVERITY_ORDER
    ]
    conn.execute(sa.insert(snap), rows)


def snapshot_now(engine: Engine, now: float) -> None:
    """Record today's snapshot (UTC day) from the current per-image counts."""
    day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
    with engine.begin() as conn:
        record_snapshot(conn, day, open_by_severity(conn), now)


def snapshot_history(conn: Connection, *, days: int) -> dict[str, dict[str, int]]:
    """`{day: {severity: open count}}` for the latest `days` snapshot days, oldest first."""
    snap = t.findings_daily
    recent = sa.select(snap.c.day).distinct().order_by(snap.c.day.desc()).limit(days).subquery()
    query = sa.select(snap.c.day, snap.c.severity, snap.c.open_count).where(
        snap.c.day.in_(sa.select(recent.c.day))
    )
    out: dict[str, dict[str, int]] = {}
    for day, sev, n in conn.execute(query):
        out.setdefault(str(day), {})[str(sev)] = int(n)
    return dict(sorted(out.items()))


def last_rescan(conn: Connection) -> dict[str, Any] | None:
    """The latest DB-update re-match job: its state, times and how many images it re-scanned."""
    j, u = t.scan_jobs, t.scan_usage
    row = conn.execute(
        sa.select(j.c.state, j.c.created_at, j.c.updated_at, j.c.payload, j.c.last_error)
        .where(j.c.kind == JobKind.RESCAN)
        .order_by(j.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    state, created, updated, payload, error = row
    images = conn.execute(
        sa.select(sa.func.count()).where(
            u.c.kind == "rescan", u.c.scanned_at >= created, u.c.scanned_at <= updated + 1
        )
    ).scalar_one()
    doc = json.loads(payload or "{}")
    return {
        "state": state,
        "created_at": created,
        "updated_at": updated,
        "images": int(images),
        "version": doc.get("version"),
        "error": error or "",
    }
