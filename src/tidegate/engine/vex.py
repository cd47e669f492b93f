"""The `vex_statements` table: what pushed VEX documents say, and the SQL that applies them.

A `not_affected` or `fixed` statement suppresses the open findings of its vulnerability (and
package, when it names one) in its image, or every image of the repository for a document
pushed without a subject; `affected` and `under_investigation` only annotate them
(`statements` shows every statement with the findings it covers; `applying` gives the
findings theirs, by the same match).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tidegate import schema as t
from tidegate.db import reading
from tidegate.engine import finding_criteria as criteria
from tidegate.engine.findings import OPEN
from tidegate.oci.manifest import Manifest
from tidegate.scanner import vex as parser

v = t.vex_statements


def is_vex(parsed: Manifest) -> bool:
    """An artifact carrying a VEX document (by artifactType, config or layer media type)."""
    if parsed.is_index:
        return False
    return parsed.artifact_type in parser.MEDIA_TYPES or any(
        layer.media_type in parser.MEDIA_TYPES for layer in parsed.layers
    )


def vex_layers(parsed: Manifest) -> list[str]:
    """The digests of the layers holding the document (every layer when only the
    artifactType says VEX, as `oras attach --artifact-type` pushes it)."""
    typed = [str(layer.digest) for layer in parsed.layers if layer.media_type in parser.MEDIA_TYPES]
    return typed or [str(layer.digest) for layer in parsed.layers]


def store(
    conn: Connection,
    repository_id: int,
    document_digest: str,
    subject_digest: str | None,
    fmt: str,
    statements: Sequence[parser.VexStatement],
    now: float,
) -> None:
    """Record a document's statements; one row per image and package name each may match."""
    rows = [
        {"repository_id": repository_id, "document_digest": document_digest,
         "subject_digest": target, "format": fmt, "vuln_id": s.vuln_id, "package_name": name,
         "status": s.status, "justification": s.justification, "statement": s.statement,
         "created_at": now}
        for s in statements
        for target in ((subject_digest,) if subject_digest else (s.image_digests or (None,)))
        for name in s.package_names or ("",)
    ]  # fmt: skip
    if rows:
        conn.execute(sa.insert(v), rows)


def forget(conn: Connection, repository_id: int, document_digest: str) -> list[str | None]:
    """Drop a deleted document's statements; returns the images they applied to."""
    where = (v.c.repository_id == repository_id, v.c.document_digest == document_digest)
    subjects = sorted({r for (r,) in conn.execute(sa.select(v.c.subject_digest).where(*where))},
                      key=lambda d: d or "")  # fmt: skip
    conn.execute(sa.delete(v).where(*where))
    return subjects


def clause(conn: Connection) -> sa.ColumnElement[bool] | None:
    """What suppressing statements match (over findings ⨝ ...), None when there are none."""
    if conn.execute(sa.select(v.c.id).where(v.c.status.in_(parser.SUPPRESSING)).limit(1)).first():
        return suppressing(t.findings)
    return None


def _matching(f: sa.Table) -> tuple[sa.ColumnElement[bool], ...]:
    """A statement row applies to a finding of `f`: its vulnerability, its package when the
    statement names one, and its image (or every image of the repository)."""
    return (
        v.c.repository_id == f.c.repository_id,
        v.c.vuln_id == f.c.vuln_id,
        sa.or_(v.c.subject_digest == f.c.digest, v.c.subject_digest.is_(None)),
        sa.or_(v.c.package_name == "", v.c.package_name == f.c.package_name),
    )


def suppressing(f: sa.Table) -> sa.ColumnElement[bool]:
    return sa.exists().where(*_matching(f), v.c.status.in_(parser.SUPPRESSING))


@dataclass(frozen=True, slots=True)
class AppliedStatement:
    """A statement as the findings it applies to show it."""

    document_digest: str
    vuln_id: str
    status: str
    justification: str
    statement: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "justification": self.justification or None,
            "statement": self.statement or None, "document": self.document_digest,
            "vulnerabilityId": self.vuln_id,
        }  # fmt: skip


def applying(
    conn: Connection, finding_ids: Sequence[int] | sa.Select[tuple[int]]
) -> dict[int, list[AppliedStatement]]:
    """The statements that apply to these findings (their ids, or a select of ids), by
    finding id, oldest statement first; findings none applies to are left out. The match is
    `suppressing`'s, over every status; one query for the whole set."""
    f = t.findings
    ids: Sequence[int] | sa.Select[tuple[int]] = finding_ids
    if isinstance(finding_ids, sa.Select):
        if conn.execute(sa.select(v.c.id).limit(1)).first() is None:
            return {}
        ids = finding_ids.correlate(None)  # its own findings, not the outer query's
    elif not finding_ids:
        return {}
    query = (
        sa.select(f.c.id.label("finding_id"), v.c.document_digest, v.c.vuln_id, v.c.status,
                  v.c.justification, v.c.statement)
        .select_from(f.join(v, sa.and_(*_matching(f))))
        .where(f.c.id.in_(ids))
        .order_by(f.c.id, v.c.id)
    )  # fmt: skip
    out: dict[int, list[AppliedStatement]] = {}
    for row in conn.execute(query).mappings():
        applied = AppliedStatement(row["document_digest"], row["vuln_id"], row["status"],
                                   row["justification"], row["statement"])  # fmt: skip
        found = out.setdefault(row["finding_id"], [])
        if applied not in found:  # a statement's rows: one per package name and image
            found.append(applied)
    return out


@dataclass(frozen=True, slots=True)
class StatementReport:
    document_digest: str
    subject_digest: str | None
    format: str
    vuln_id: str
    package_names: tuple[str, ...]  # () = every package
    status: str
    justification: str
    statement: str
    findings: int  # open findings it covers now

    def as_dict(self) -> dict[str, Any]:
        return {
            "document": self.document_digest, "subject": self.subject_digest,
            "format": self.format, "vulnerabilityId": self.vuln_id,
            "packageNames": list(self.package_names), "status": self.status,
            "justification": self.justification or None, "statement": self.statement or None,
            "findings": self.findings,
        }  # fmt: skip


def report(engine: Engine, repository_id: int, digest: str | None) -> list[dict[str, Any]]:
    """`statements` in its own read transaction, as the API shows them."""
    with reading(engine) as conn:
        return [s.as_dict() for s in statements(conn, repository_id, digest)]


_KEY = ("document_digest", "subject_digest", "format", "vuln_id", "status", "justification",
        "statement")  # fmt: skip


def statements(
    conn: Connection, repository_id: int, digest: str | None = None
) -> list[StatementReport]:
    """The repository's statements (those applying to `digest` when given), each with the
    open findings it covers; the rows of one statement (one per package name) are joined."""
    f = t.findings
    query = sa.select(v).where(v.c.repository_id == repository_id).order_by(v.c.id)
    if digest is not None:
        query = query.where(sa.or_(v.c.subject_digest == digest, v.c.subject_digest.is_(None)))
    grouped: dict[tuple[Any, ...], list[str]] = {}
    for row in conn.execute(query).mappings():
        grouped.setdefault(tuple(row[k] for k in _KEY), []).append(row["package_name"])
    out = []
    for key, names in grouped.items():
        fields = dict(zip(_KEY, key, strict=True))
        image = digest or fields["subject_digest"]
        packages = () if "" in names else tuple(sorted(names))
        covered = criteria.joined(
            [sa.func.count()], f.c.repository_id == repository_id, f.c.status.in_(OPEN),
            f.c.vuln_id == fields["vuln_id"],
            f.c.digest == image if image else sa.true(),
            f.c.package_name.in_(packages) if packages else sa.true(),
        )  # fmt: skip
        out.append(StatementReport(
            fields["document_digest"], fields["subject_digest"], fields["format"],
            fields["vuln_id"], packages, fields["status"], fields["justification"],
            fields["statement"], int(conn.execute(covered).scalar_one()),
        ))  # fmt: skip
    return out
