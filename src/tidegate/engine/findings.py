"""Persist findings per image and report what changed (new, changed, closed).

Writes are batched: a re-scan of thousands of images reads their ACTIVE findings in a few
queries, diffs in memory and writes only the rows that changed, with executemany. Open
findings are ACTIVE or SUPPRESSED (a suppression rule matches them); both close when a scan
no longer finds them, and only ACTIVE ones count in severity counts.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.db import bulk_insert, insert_ignoring_conflicts
from tidegate.engine import finding_criteria as criteria
from tidegate.engine.finding_shapes import render_static_part
from tidegate.registry.metadata import by_repository
from tidegate.scanner.match import Finding
from tidegate.scanner.report.findings import rated_by
from tidegate.scanner.versions import Verdict
from tidegate.scanner.vulndb.model import FixState
from tidegate.states import FindingStatus, ScanType

# Bound once: an enum member lookup costs ~100 ns on Python 3.11, and _diff runs per finding.
_ACTIVE, _CLOSED = FindingStatus.ACTIVE, FindingStatus.CLOSED

_COMPARED = (
    "severity", "score", "fixed_in", "fix_available", "fix_state", "exploit_available", "details",
)  # fmt: skip
_BATCH = 500
OPEN = (
    FindingStatus.ACTIVE,
    FindingStatus.SUPPRESSED,
)  # a finding that is still there, suppressed or not

ImageKey = tuple[int, str]  # (repository id, manifest digest)
Row = dict[str, Any]  # one findings row
Clause = sa.ColumnElement[bool]


@dataclass
class FindingChanges:
    """Rows (as dicts) that appeared, changed or closed in this evaluation."""

    new: list[dict[str, object]] = field(default_factory=list)
    changed: list[dict[str, object]] = field(default_factory=list)
    closed: list[dict[str, object]] = field(default_factory=list)
    # ACTIVE findings gained (+) or lost (-) per severity: lets a re-scan update an image's
    # severity counts without counting all of its findings again.
    severity_delta: Counter[str] = field(default_factory=Counter)

    @property
    def any(self) -> bool:
        return bool(self.new or self.changed or self.closed)


# What an evaluation covered: advisory key -> the vulnerability ids re-evaluated for it
# (None: all of them). Only findings inside the scope may close.
Scope = Mapping[tuple[str, str], frozenset[str] | None]


@dataclass(frozen=True, slots=True)
class ImageFindings:
    """What one evaluation found for one image; `scope` limits what may close."""

    repository_id: int
    digest: str
    found: Sequence[Finding]
    scope: Scope | None = None  # None: the whole image was evaluated


def in_scope(scope: Scope | None, namespace: str, match_name: str, vuln_id: str) -> bool:
    if scope is None:
        return True
    if (namespace, match_name) not in scope:
        return False
    ids = scope[(namespace, match_name)]
    return ids is None or vuln_id in ids


def severity_of(finding: Finding, scan_type: ScanType) -> str:
    """`scanner.severity`'s word; unrated is UNDEFINED (basic) or UNTRIAGED (enhanced)."""
    return finding.advisory.severity.for_scan(enhanced=scan_type == ScanType.ENHANCED).value


def finding_key(finding: Finding) -> str:
    pkg = finding.target.package
    ident = "\0".join(
        (finding.vuln_id, finding.target.namespace, finding.target.name, pkg.name, pkg.version,
         pkg.path)
    )  # fmt: skip
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


def _details(finding: Finding) -> str:
    adv = finding.advisory
    pkg = finding.target.package
    doc = {
        "aliases": list(finding.aliases),
        "title": adv.summary,
        "description": adv.details or adv.summary,
        "references": list(adv.references),
        "source": adv.source,
        "sources": list(adv.sources),
        "published": adv.published,
        "modified": adv.modified,
        "vendor_severity": adv.distro_severity.raw if adv.distro_severity else "",
        "rated_by": rated_by(finding),
        "cvss": [
            {
                "type": s.type,
                "version": s.version,
                "vector": s.vector,
                "score": s.score,
                "source": s.source,
            }
            for s in adv.severities
        ],
        "fix_state": finding.fix.value,
        "verdict": finding.verdict.value,
        "arch": pkg.arch,
        "purl": pkg.purl,
        "source_name": pkg.source_name,
        "source_version": pkg.source_version,
        "ecosystem": pkg.ecosystem,
    }
    return json.dumps(doc, sort_keys=True)


def _row(finding: Finding, scan_type: ScanType) -> dict[str, object]:
    pkg = finding.target.package
    fixed = finding.fixed_in if finding.fix is FixState.FIXED else ""
    row: dict[str, object] = {
        "finding_key": finding_key(finding),
        "vuln_id": finding.vuln_id,
        "package_name": pkg.name,
        "package_version": pkg.version,
        "package_manager": pkg.package_manager.value,
        "namespace": finding.target.namespace,
        "match_name": finding.target.name,
        "file_path": pkg.path,
        "layer": pkg.layer,
        "severity": severity_of(finding, scan_type),
        "score": finding.advisory.score,
        "fixed_in": fixed,
        "fix_available": "YES" if fixed else "NO",
        "fix_state": finding.fix.value,
        "exploit_available": "YES" if finding.advisory.known_exploited else "NO",
        "details": _details(finding),
    }
    row["shape"] = shape = render_static_part(row)
    row["details_id"] = details_id(str(row["details"]), shape)
    return row


def details_id(details: str, shape: str | None) -> str:
    """The content address of a finding_details row."""
    return hashlib.sha256(((shape or "") + "\0" + details).encode()).hexdigest()


_FINDING_COLUMNS = frozenset(c.name for c in t.findings.columns)


def _stored(row: Row) -> Row:
    return {k: v for k, v in row.items() if k in _FINDING_COLUMNS}


def _with_details() -> sa.Select[Any]:
    f, d = t.findings, t.finding_details
    return sa.select(f, d.c.details, d.c.shape).join(d, d.c.id == f.c.details_id)


def _store_details(conn: Connection, rows: Iterable[Row]) -> None:
    texts = {str(r["details_id"]): r for r in rows}
    insert_ignoring_conflicts(
        conn,
        t.finding_details,
        [{"id": k, "details": r["details"], "shape": r["shape"]} for k, r in texts.items()],
        "id",
    )


def _existing(conn: Connection, images: Sequence[ImageKey]) -> dict[ImageKey, dict[str, Row]]:
    f = t.findings
    out: dict[ImageKey, dict[str, Row]] = {key: {} for key in images}
    for repository_id, digests in by_repository(images).items():
        for start in range(0, len(digests), _BATCH):
            query = _with_details().where(
                f.c.repository_id == repository_id,
                f.c.digest.in_(digests[start : start + _BATCH]),
            )
            for m in conn.execute(query).mappings():
                out[(repository_id, m["digest"])][m["finding_key"]] = dict(m)
    return out


def rows_of_vulnerabilities(
    conn: Connection, vuln_ids: frozenset[str], images: set[ImageKey]
) -> dict[ImageKey, dict[str, Row]]:
    """Stored findings (any status) of these vulnerabilities in these images.

    A re-scan after a small DB change names a few hundred vulnerabilities: reading their
    rows through the vuln_id index costs what it returns, where reading the images' rows
    would cost every finding of every image.
    """
    f = t.findings
    out: dict[ImageKey, dict[str, Row]] = {}
    ids = sorted(vuln_ids)
    for start in range(0, len(ids), _BATCH):
        query = _with_details().where(f.c.vuln_id.in_(ids[start : start + _BATCH]))
        for m in conn.execute(query):
            key = (m.repository_id, m.digest)
            if key in images:
                out.setdefault(key, {})[m.finding_key] = dict(m._mapping)
    return out


RowCache = dict[int, Row]  # id(Finding) -> its row; valid while the Finding objects live


def _row_of(finding: Finding, scan_type: ScanType, cache: RowCache | None) -> Row:
    if cache is None:
        return _row(finding, scan_type)
    row = cache.get(id(finding))
    if row is None:
        row = cache[id(finding)] = _row(finding, scan_type)
    return row


def _diff(
    item: ImageFindings,
    old_rows: dict[str, Row],
    scan_type: ScanType,
    now: float,
    cache: RowCache | None = None,
) -> tuple[FindingChanges, list[dict[str, object]], list[dict[str, object]]]:
    """(changes, rows to insert, rows to update by id) for one image."""
    changes = FindingChanges()
    delta = changes.severity_delta
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    seen: set[str] = set()
    for finding in item.found:
        if finding.verdict is Verdict.NOT_AFFECTED:
            continue
        row = _row_of(finding, scan_type, cache)
        key = str(row["finding_key"])
        if key in seen:
            continue
        seen.add(key)
        old = old_rows.get(key)
        if old is None:
            values = {**row, "repository_id": item.repository_id, "digest": item.digest,
                      "scan_type": scan_type, "status": _ACTIVE, "first_observed_at": now,
                      "last_observed_at": now, "updated_at": now}  # fmt: skip
            inserts.append(values)
            changes.new.append(values)
            delta[str(row["severity"])] += 1
            continue
        reopened = old["status"] not in OPEN
        differs = (
            reopened or old["scan_type"] != scan_type or any(old[c] != row[c] for c in _COMPARED)
        )
        if not differs:
            continue  # unchanged: last_observed_at is the scan's completion time
        # A suppressed finding found again stays suppressed; the rules then re-check it.
        status = _ACTIVE if reopened else old["status"]
        values = {**old, **row, "scan_type": scan_type, "status": status,
                  "last_observed_at": now, "updated_at": now}  # fmt: skip
        updates.append(values)
        (changes.new if reopened else changes.changed).append(values)
        if old["status"] == _ACTIVE:
            delta[str(old["severity"])] -= 1
        if status == _ACTIVE:
            delta[str(row["severity"])] += 1
    for key, old in old_rows.items():
        if key in seen or old["status"] not in OPEN:
            continue
        if not in_scope(item.scope, old["namespace"], old["match_name"], old["vuln_id"]):
            continue
        values = {**old, "status": _CLOSED, "updated_at": now}
        updates.append(values)
        changes.closed.append(values)
        if old["status"] == _ACTIVE:
            delta[str(old["severity"])] -= 1
    return changes, inserts, updates


def store_many(
    conn: Connection,
    items: Sequence[ImageFindings],
    scan_type: ScanType,
    now: float,
    *,
    existing: dict[ImageKey, dict[str, Row]] | None = None,
    row_cache: RowCache | None = None,
    suppress: Clause | None = None,
) -> dict[ImageKey, FindingChanges]:
    """Upsert findings of many images in a few statements; returns the changes per image.

    `existing`, when given, are the items' stored rows already read (images absent from it
    have none); otherwise every stored row of the items' images is read. `suppress` is the
    suppression rules in force (`engine.suppression.rules_clause`): the open enhanced
    findings of every image that changed are moved to or from SUPPRESSED by it.
    """
    if existing is None:
        existing = _existing(conn, [(i.repository_id, i.digest) for i in items])
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    out: dict[ImageKey, FindingChanges] = {}
    for item in items:
        key = (item.repository_id, item.digest)
        changes, ins, upd = _diff(item, existing.get(key, {}), scan_type, now, row_cache)
        out[key] = changes
        inserts += ins
        updates += upd
    # Closed rows keep the details row they already reference.
    _store_details(conn, [*inserts, *(u for u in updates if u["status"] != _CLOSED)])
    bulk_insert(conn, t.findings, [_stored(r) for r in inserts])
    whole = [{"_repo": i.repository_id, "_digest": i.digest} for i in items if i.scope is None]
    if whole:
        f = t.findings
        conn.execute(
            sa.update(f)
            .where(
                f.c.repository_id == sa.bindparam("_repo"),
                f.c.digest == sa.bindparam("_digest"),
                f.c.status.in_(OPEN),
            )
            .values(last_observed_at=now),
            whole,
        )
    if updates:
        f = t.findings
        columns = [c.name for c in f.columns if c.name != "id"]
        stmt = (
            sa.update(f)
            .where(f.c.id == sa.bindparam("_id"))
            .values({c: sa.bindparam(c) for c in columns})
        )
        conn.execute(stmt, [{**{c: u[c] for c in columns}, "_id": u["id"]} for u in updates])
    if suppress is not None and scan_type == ScanType.ENHANCED:
        touched = [(i.repository_id, i.digest) for i in items
                   if i.scope is None or out[(i.repository_id, i.digest)].any]  # fmt: skip
        if touched:
            _merge_moves(out, resuppress(conn, suppress, now, touched))
    return out


def _merge_moves(out: dict[ImageKey, FindingChanges], moved: Sequence[Row]) -> None:
    """Fold the rule's moves into the scan's changes: a new or changed finding's event shows
    its final status; an otherwise unchanged one becomes a change of its own."""
    reported_by: dict[ImageKey, dict[str, dict[str, object]]] = {}
    for row in moved:
        key = (row["repository_id"], row["digest"])
        changes = out[key]
        if key not in reported_by:
            reported_by[key] = {str(v["finding_key"]): v for v in (*changes.new, *changes.changed)}
        reported = reported_by[key].get(row["finding_key"])
        if reported is None:
            changes.changed.append(row)
        else:
            reported["status"] = row["status"]
        sign = 1 if row["status"] == FindingStatus.ACTIVE else -1
        changes.severity_delta[str(row["severity"])] += sign


def resuppress(
    conn: Connection, suppress: Clause | None, now: float, images: Sequence[ImageKey] | None = None
) -> list[Row]:
    """Move the open enhanced findings `suppress` matches to SUPPRESSED, and the suppressed
    ones it no longer matches back to ACTIVE; returns the moved rows in their new state.

    `images` limits the evaluation (None: every image), `suppress` None means no rule holds.
    """
    f = t.findings
    hit = sa.case((suppress, 1), else_=0) if suppress is not None else sa.literal(0)
    moving = sa.or_(
        sa.and_(f.c.status == FindingStatus.ACTIVE, hit == 1),
        sa.and_(f.c.status == FindingStatus.SUPPRESSED, hit == 0),
    )
    scopes: list[Clause] = [sa.true()]
    if images is not None:
        scopes = [
            sa.and_(f.c.repository_id == repository_id,
                    f.c.digest.in_(digests[start : start + _BATCH]))
            for repository_id, digests in by_repository(images).items()
            for start in range(0, len(digests), _BATCH)
        ]  # fmt: skip
    ids: list[int] = []
    for scope in scopes:
        query = criteria.joined([f.c.id], f.c.status.in_(OPEN), scope, moving)
        ids += [int(i) for i in conn.execute(query).scalars()]
    moved: list[Row] = []
    for start in range(0, len(ids), _BATCH):
        batch = [dict(m) for m in conn.execute(
            _with_details().where(f.c.id.in_(ids[start : start + _BATCH]))).mappings()]  # fmt: skip
        for row in batch:
            suppressed = row["status"] == FindingStatus.SUPPRESSED
            row["status"] = FindingStatus.ACTIVE if suppressed else FindingStatus.SUPPRESSED
            row["updated_at"] = now
        for status in OPEN:
            to = [r["id"] for r in batch if r["status"] == status]
            if to:
                conn.execute(
                    sa.update(f).where(f.c.id.in_(to)).values(status=status, updated_at=now)
                )
        moved += batch
    return moved


def store_findings(
    conn: Connection,
    repository_id: int,
    digest: str,
    scan_type: ScanType,
    found: Iterable[Finding],
    now: float,
    *,
    suppress: Clause | None = None,
) -> FindingChanges:
    """Upsert one image's findings; open ones not found again close."""
    item = ImageFindings(repository_id, digest, list(found), None)
    return store_many(conn, [item], scan_type, now, suppress=suppress)[(repository_id, digest)]


def severity_counts_many(
    conn: Connection, images: Sequence[ImageKey]
) -> dict[ImageKey, dict[str, int]]:
    """ACTIVE findings per severity for many images (only non-zero severities)."""
    f = t.findings
    counts: dict[ImageKey, Counter[str]] = {key: Counter() for key in images}
    for repository_id, digests in by_repository(images).items():
        for start in range(0, len(digests), _BATCH):
            rows = conn.execute(
                sa.select(f.c.digest, f.c.severity, sa.func.count())
                .where(
                    f.c.repository_id == repository_id,
                    f.c.digest.in_(digests[start : start + _BATCH]),
                    f.c.status == FindingStatus.ACTIVE,
                )
                .group_by(f.c.digest, f.c.severity)
            )
            for digest, severity, n in rows:
                counts[(repository_id, str(digest))][str(severity)] = int(n)
    return {key: dict(sorted(c.items())) for key, c in counts.items()}


def severity_counts(conn: Connection, repository_id: int, digest: str) -> dict[str, int]:
    """ACTIVE findings per severity, only severities with a count (as ECR reports them)."""
    return severity_counts_many(conn, [(repository_id, digest)])[(repository_id, digest)]
