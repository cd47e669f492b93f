"""Read side of findings: one image's page for DescribeImageScanFindings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tidegate import schema as t
from tidegate.db import reading, rows_for_ids
from tidegate.engine.finding_shapes import (
    ImageContext,
    basic_finding,
    enhanced_finding_json,
    image_resources,
)
from tidegate.events.model import Origin
from tidegate.registry import metadata
from tidegate.registry.metadata import ManifestRow, RepoRow
from tidegate.scanner.severity import WORST_FIRST
from tidegate.states import FindingStatus, ScanType

# Worst first, as the console and the CLI list them.
SEVERITY_ORDER = WORST_FIRST


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
    where = (
        f.c.repository_id == repository_id,
        f.c.digest == image.digest,
        f.c.status == FindingStatus.ACTIVE,
    )
    order = (_order(), f.c.vuln_id, f.c.package_name, f.c.id)
    if scan_type != ScanType.ENHANCED:
        query = (
            sa.select(f, d.c.details)
            .join(d, d.c.id == f.c.details_id)
            .where(*where)
            .order_by(*order)
            .offset(offset)
            .limit(limit + 1)
        )
        rows = list(conn.execute(query).mappings())
        return FindingsPage([basic_finding(dict(r)) for r in rows[:limit]], [], len(rows) > limit)
    # Enhanced pages are long (1,000 findings of ~2 KB): sort narrow rows to choose the
    # page, then read the page's rows and stored shapes by id. Sorting the wide joined rows
    # made SQLite carry every shape through its sorter.
    ids = [
        int(i)
        for i in conn.execute(
            sa.select(f.c.id).where(*where).order_by(*order).offset(offset).limit(limit + 1)
        ).scalars()
    ]
    more = len(ids) > limit
    ids = ids[:limit]
    # The page needs only the per-image members and the stored shape; rows written before
    # shapes existed are read whole (with their details) and rendered.
    names = ["id", "finding_key", "status", "first_observed_at", "last_observed_at",
             "updated_at", "shape"]  # fmt: skip
    sql = (
        "SELECT f.id, f.finding_key, f.status, f.first_observed_at, f.last_observed_at,"
        " f.updated_at, d.shape FROM findings f JOIN finding_details d ON d.id = f.details_id"
        " WHERE f.id IN ({})"
    )
    by_id = {int(r[0]): dict(zip(names, r, strict=True)) for r in rows_for_ids(conn, sql, ids)}
    unshaped = [i for i, row in by_id.items() if row["shape"] is None]
    if unshaped:
        columns = [c.name for c in f.columns]
        sql = (
            f"SELECT {', '.join('f.' + c for c in columns)}, d.details"
            " FROM findings f JOIN finding_details d ON d.id = f.details_id WHERE f.id IN ({})"
        )
        for r in rows_for_ids(conn, sql, unshaped):
            by_id[int(r[0])] = {**dict(zip([*columns, "details"], r, strict=True)), "shape": None}
    resources = image_resources(origin, image)
    return FindingsPage(
        [],
        [orjson.Fragment(enhanced_finding_json(by_id[i], origin, resources)) for i in ids],
        more,
    )


def read_image_findings(
    engine: Engine,
    repo: RepoRow,
    row: ManifestRow,
    scan_type: str,
    origin: Origin,
    *,
    offset: int,
    limit: int,
) -> FindingsPage:
    """One page of the image's findings in its own read transaction (for the API layers)."""
    with reading(engine) as conn:
        image = ImageContext(repo.name, row.digest, metadata.tags_of(conn, row.id), row.pushed_at)
        return image_findings(conn, repo.id, scan_type, origin, image, offset=offset, limit=limit)
