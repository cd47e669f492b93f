"""Findings aggregated the way the Inspector console shows them: by vulnerability, repository,
image, layer and package, with severity, fix-available, fix-state and text filters."""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tidegate import schema as t
from tidegate.db import reading
from tidegate.engine import vex
from tidegate.engine.findings_view import SEVERITY_ORDER
from tidegate.scanner.severity import Severity
from tidegate.states import FindingStatus


class GroupBy(enum.Enum):
    VULNERABILITY = "vulnerability"
    REPOSITORY = "repository"
    IMAGE = "image"
    LAYER = "layer"
    PACKAGE = "package"


@dataclass(frozen=True, slots=True)
class FindingFilter:
    severities: tuple[str, ...] = ()
    fix_available: str | None = None  # YES | NO
    fix_states: tuple[str, ...] = ()  # scanner.vulndb.model.FixState values
    text: str = ""  # substring of vulnerability id, package or repository name
    repository: str | None = None
    include_closed: bool = False
    status: FindingStatus | None = None  # exactly this status; wins over include_closed


@dataclass
class Group:
    key: dict[str, str]
    severity_counts: Counter[str] = field(default_factory=Counter)
    images: set[tuple[str, str]] = field(default_factory=set)
    repositories: set[str] = field(default_factory=set)
    vulnerabilities: set[str] = field(default_factory=set)
    fixable: int = 0
    exploitable: int = 0
    # The statements applying to some of its findings, first seen first (a dict as an
    # ordered set: one statement applies to many findings of a group).
    vex: dict[vex.AppliedStatement, None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        worst = next((s for s in SEVERITY_ORDER if self.severity_counts.get(s)), "")
        return {
            **self.key,
            "severity": worst,
            "severityCounts": {"all": sum(self.severity_counts.values()),
                               **{s.lower(): n for s, n in sorted(self.severity_counts.items())}},
            "affectedImages": len(self.images),
            "repositories": sorted(self.repositories),
            "vulnerabilities": len(self.vulnerabilities),
            "fixAvailableCount": self.fixable,
            "exploitAvailableCount": self.exploitable,
            **({"vex": [s.as_dict() for s in self.vex]} if self.vex else {}),
        }  # fmt: skip


def _rows(conn: Connection, flt: FindingFilter) -> Iterable[sa.RowMapping]:
    f, r = t.findings, t.repositories
    columns = (
        f.c.id, f.c.vuln_id, f.c.digest, f.c.layer, f.c.package_name, f.c.package_version,
        f.c.severity, f.c.fix_available, f.c.exploit_available, r.c.name.label("repository"),
    )  # fmt: skip
    return conn.execute(_select(columns, flt)).mappings()


def _select(columns: Iterable[Any], flt: FindingFilter) -> sa.Select[Any]:
    f, r = t.findings, t.repositories
    query = sa.select(*columns).select_from(f.join(r, r.c.id == f.c.repository_id))
    if flt.status is not None:
        query = query.where(f.c.status == flt.status)
    elif not flt.include_closed:
        query = query.where(f.c.status == FindingStatus.ACTIVE)
    if flt.severities:
        query = query.where(f.c.severity.in_([s.upper() for s in flt.severities]))
    if flt.fix_available:
        query = query.where(f.c.fix_available == flt.fix_available.upper())
    if flt.fix_states:
        query = query.where(f.c.fix_state.in_(flt.fix_states))
    if flt.repository:
        query = query.where(r.c.name == flt.repository)
    if flt.text:
        like = f"%{flt.text}%"
        query = query.where(
            sa.or_(f.c.vuln_id.ilike(like), f.c.package_name.ilike(like), r.c.name.ilike(like))
        )
    return query


def _key(group_by: GroupBy, row: sa.RowMapping) -> tuple[tuple[str, str], ...]:
    match group_by:
        case GroupBy.VULNERABILITY:
            return (("vulnerabilityId", row["vuln_id"]),)
        case GroupBy.REPOSITORY:
            return (("repository", row["repository"]),)
        case GroupBy.IMAGE:
            return (("repository", row["repository"]), ("imageDigest", row["digest"]))
        case GroupBy.LAYER:
            return (
                ("repository", row["repository"]),
                ("imageDigest", row["digest"]),
                ("layerHash", row["layer"]),
            )
        case GroupBy.PACKAGE:
            return (("packageName", row["package_name"]),)


def aggregate(
    conn: Connection,
    group_by: GroupBy,
    flt: FindingFilter,
    *,
    limit: int = 1000,
    with_vex: bool = False,
) -> list[dict[str, Any]]:
    """Groups sorted worst first (critical, then high, then total count); `with_vex` adds
    each group's `vex`: the VEX statements applying to its findings (when any do)."""
    groups: dict[tuple[tuple[str, str], ...], Group] = defaultdict(lambda: Group({}))
    applied = vex.applying(conn, _select([t.findings.c.id], flt)) if with_vex else {}
    for row in _rows(conn, flt):
        key = _key(group_by, row)
        group = groups[key]
        group.key = dict(key)
        group.severity_counts[row["severity"]] += 1
        group.images.add((row["repository"], row["digest"]))
        group.repositories.add(row["repository"])
        group.vulnerabilities.add(row["vuln_id"])
        group.fixable += row["fix_available"] == "YES"
        group.exploitable += row["exploit_available"] == "YES"
        for statement in applied.get(row["id"], ()):
            group.vex.setdefault(statement)
    ranked = sorted(
        groups.values(),
        key=lambda g: (
            -g.severity_counts[Severity.CRITICAL],
            -g.severity_counts[Severity.HIGH],
            -sum(g.severity_counts.values()),
            tuple(g.key.values()),
        ),
    )
    return [g.as_dict() for g in ranked[:limit]]


def aggregate_report(
    engine: Engine, group_by: GroupBy, flt: FindingFilter, *, limit: int = 1000
) -> list[dict[str, Any]]:
    """`aggregate` in its own read transaction, with VEX statements (for the API layers)."""
    with reading(engine) as conn:
        return aggregate(conn, group_by, flt, limit=limit, with_vex=True)


ALL = "ALL"  # the status filter's word for findings of every status
STATUSES = (*(s.value for s in FindingStatus), ALL)


def status_filter(value: str) -> tuple[FindingStatus | None, bool]:
    """`--status`/`?status=` as FindingFilter's (status, include_closed); ValueError if
    unknown."""
    word = value.upper()
    if word not in STATUSES:
        raise ValueError(value)
    return (None, True) if word == ALL else (FindingStatus(word), False)
