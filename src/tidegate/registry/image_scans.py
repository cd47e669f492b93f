"""Recorded scan state per image (imageScanStatus), as DescribeImages reports it.

The scanning engine (engine/scans.py) writes these rows; this module only reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.states import ScanStatus, ScanType

PENDING_DESCRIPTION = "Pending start of the image scan."


@dataclass(frozen=True, slots=True)
class ScanState:
    """The recorded scan of one image (PENDING until the scanning engine runs it)."""

    scan_type: ScanType
    status: ScanStatus
    description: str
    requested_at: float
    completed_at: float | None
    severity_counts: tuple[tuple[str, int], ...] = ()
    vulndb_updated_at: float | None = None


def scan_of(conn: Connection, repo_id: int, digest: str) -> ScanState | None:
    """The scan row of one image, if any."""
    table = t.image_scans
    m = (
        conn.execute(
            sa.select(table).where(table.c.repository_id == repo_id, table.c.digest == digest)
        )
        .mappings()
        .first()
    )
    if m is None:
        return None
    counts = json.loads(m["severity_counts"] or "{}")
    return ScanState(
        ScanType(m["scan_type"]),
        ScanStatus(m["status"]),
        m["description"],
        m["requested_at"],
        m["completed_at"],
        tuple(sorted(counts.items())),
        m["vulndb_updated_at"],
    )
