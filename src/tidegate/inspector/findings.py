"""ListFindings: one page of enhanced findings, filtered and sorted in SQL.

Each finding is rendered from the same stored shape DescribeImageScanFindings splices
(`engine.finding_shapes`), then spelt the way Inspector spells it
(`events.inspector.to_inspector_finding`), so the two APIs never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.engine import finding_criteria as filters
from tidegate.engine.finding_shapes import ImageContext, enhanced_finding_json, image_resources
from tidegate.engine.findings_view import SEVERITY_ORDER
from tidegate.events.inspector import to_inspector_finding
from tidegate.events.model import Origin
from tidegate.inspector.errors import InspectorError

f, r, m, d = t.findings, t.repositories, t.manifests, t.finding_details


def _severity_rank() -> sa.ColumnElement[int]:
    # Ascending = least severe first, as Inspector sorts SEVERITY ASC.
    order = list(reversed(SEVERITY_ORDER))
    return sa.case(*[(f.c.severity == s, i) for i, s in enumerate(order)], else_=-1)


SORTS: dict[str, Any] = {
    "SEVERITY": _severity_rank,
    "FIRST_OBSERVED_AT": lambda: f.c.first_observed_at,
    "LAST_OBSERVED_AT": lambda: f.c.last_observed_at,
    "FINDING_STATUS": lambda: f.c.status,
    "ECR_IMAGE_PUSHED_AT": lambda: m.c.pushed_at,
    "ECR_IMAGE_REPOSITORY_NAME": lambda: r.c.name,
    "VULNERABILITY_ID": lambda: f.c.vuln_id,
    "INSPECTOR_SCORE": lambda: f.c.score,
}


@dataclass(frozen=True, slots=True)
class Page:
    findings: list[dict[str, Any]]
    more: bool


def base_query(columns: list[Any], criteria: Mapping[str, Any], origin: Origin) -> sa.Select[Any]:
    """SELECT `columns` FROM enhanced findings ⨝ their repository and image, filtered."""
    return filters.joined(columns, *filters.where(criteria, origin))


def list_findings(
    conn: Connection,
    origin: Origin,
    criteria: Mapping[str, Any],
    sort: Mapping[str, Any] | None,
    *,
    offset: int,
    limit: int,
) -> Page:
    order: list[Any] = []
    if sort:
        key = SORTS.get(sort["field"])
        if key is None:
            field = "sortCriteria.field"
            raise InspectorError(
                "ValidationException",
                f"{field}: {sort['field']} does not apply to container image findings",
                fields=[{"name": field, "message": "not sortable here"}],
                reason="FIELD_VALIDATION_FAILED",
            )
        column = key()
        order.append(column.desc() if sort["sortOrder"] == "DESC" else column.asc())
    order.append(f.c.id.desc())  # newest first, and a total order for stable pages
    query = base_query([f.c.id], criteria, origin).order_by(*order)
    ids = [int(i) for i in conn.execute(query.offset(offset).limit(limit + 1)).scalars()]
    more = len(ids) > limit
    return Page(render(conn, origin, ids[:limit]), more)


def matching_ids(conn: Connection, origin: Origin, criteria: Mapping[str, Any]) -> list[int]:
    """Every finding `criteria` selects, in ListFindings' default order (newest first)."""
    query = base_query([f.c.id], criteria, origin).order_by(f.c.id.desc())
    return [int(i) for i in conn.execute(query).scalars()]


def render(conn: Connection, origin: Origin, ids: list[int]) -> list[dict[str, Any]]:
    """The findings `ids` in Inspector's shape, in the order given."""
    return [to_inspector_finding(shaped) for shaped in render_shapes(conn, origin, ids)]


def render_shapes(conn: Connection, origin: Origin, ids: list[int]) -> list[dict[str, Any]]:
    """The findings `ids` in ECR's enhancedFindings shape (numeric times), in order."""
    if not ids:
        return []
    rows = conn.execute(
        sa.select(f, d.c.details, d.c.shape, r.c.name.label("repository_name"),
                  m.c.id.label("manifest_id"), m.c.pushed_at)
        .join(d, d.c.id == f.c.details_id)
        .join(r, r.c.id == f.c.repository_id)
        .join(m, sa.and_(m.c.repository_id == f.c.repository_id, m.c.digest == f.c.digest))
        .where(f.c.id.in_(ids))
    ).mappings()  # fmt: skip
    by_id = {int(row["id"]): dict(row) for row in rows}
    tags: dict[int, list[str]] = defaultdict(list)
    manifest_ids = {row["manifest_id"] for row in by_id.values()}
    for manifest_id, name in conn.execute(
        sa.select(t.tags.c.manifest_id, t.tags.c.name)
        .where(t.tags.c.manifest_id.in_(manifest_ids))
        .order_by(t.tags.c.name)
    ):
        tags[manifest_id].append(name)
    out = []
    for i in ids:
        row = by_id.get(i)
        if row is None:
            continue
        image = ImageContext(row["repository_name"], row["digest"], tags[row["manifest_id"]],
                             row["pushed_at"])  # fmt: skip
        out.append(orjson.loads(enhanced_finding_json(row, origin, image_resources(origin, image))))
    return out
