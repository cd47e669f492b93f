"""Read side of findings: one image's page for DescribeImageScanFindings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.engine.finding_shapes import (
    ImageContext,
    basic_finding,
    enhanced_finding_json,
    image_resources,
)
from tidegate.events.model import Origin

# Worst first, as the console and the CLI list them.
SEVERITY_ORDER = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNTRIAGED", "UNDEFINED")


@dataclass(frozen=True, slots=True)
class FindingsPage:
    basic: list[dict[str, Any]]
    enhanced: list[orjson.Fragment]  # each finding as JSON, spliced into the response
    more: bool


def _order() -> sa.ColumnElement[int]:
    return sa.case(
        *[(t.findings.c.severity == s, i) for i, s in enumerate(SEVERITY_ORDER)],
        else_=len(SEVERITY_ORDER),
    )


def image_findings(
    conn: Connection,
    repository_id: int,
    scan_type: str,
    origin: Origin,
    image: ImageContext,
    *,
    offset: int,
    limit: int,
) -> FindingsPage:
    """ACTIVE findings of the image, worst first, one page (a lookahead row says `more`)."""
    f, d = t.findings, t.finding_details
    # Enhanced pages splice the stored shape; details are read only where it is missing.
    text = (
        [d.c.shape, sa.case((d.c.shape.is_(None), d.c.details), else_="").label("details")]
        if scan_type == "ENHANCED"
        else [d.c.details]
    )
    query = (
        sa.select(f, *text)
        .join(d, d.c.id == f.c.details_id)
        .where(
            f.c.repository_id == repository_id,
            f.c.digest == image.digest,
            f.c.status == "ACTIVE",
        )
        .order_by(_order(), f.c.vuln_id, f.c.package_name, f.c.id)
        .offset(offset)
        .limit(limit + 1)
    )
    rows = list(conn.execute(query).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    if scan_type == "ENHANCED":
        resources = image_resources(origin, image)
        return FindingsPage(
            [], [orjson.Fragment(enhanced_finding_json(r, origin, resources)) for r in rows], more
        )
    return FindingsPage([basic_finding(dict(r)) for r in rows], [], more)
