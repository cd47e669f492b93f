"""ListCoverage / ListCoverageStatistics: ECR repositories and images under ENHANCED scanning,
with the scan status each one's frequency and last scan give it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.engine import finding_criteria as filters
from tidegate.engine import policy
from tidegate.events.model import Origin
from tidegate.inspector.errors import invalid
from tidegate.states import CoverageReason, CoverageStatus, ScanFrequency, ScanStatus, ScanType

# image_scans.status -> Inspector (statusCode, reason)
_IMAGE_STATUS = {
    ScanStatus.COMPLETE: (CoverageStatus.ACTIVE, CoverageReason.SUCCESSFUL),
    ScanStatus.ACTIVE: (CoverageStatus.ACTIVE, CoverageReason.SUCCESSFUL),
    ScanStatus.IN_PROGRESS: (CoverageStatus.ACTIVE, CoverageReason.SCAN_IN_PROGRESS),
    ScanStatus.PENDING: (CoverageStatus.ACTIVE, CoverageReason.PENDING_INITIAL_SCAN),
    ScanStatus.FAILED: (CoverageStatus.INACTIVE, CoverageReason.INTERNAL_ERROR),
    ScanStatus.UNSUPPORTED_IMAGE: (CoverageStatus.INACTIVE, CoverageReason.UNSUPPORTED_MEDIA_TYPE),
    ScanStatus.SCAN_ELIGIBILITY_EXPIRED: (
        CoverageStatus.INACTIVE,
        CoverageReason.SCAN_ELIGIBILITY_EXPIRED,
    ),
}
_SUCCESSFUL = (CoverageStatus.ACTIVE, CoverageReason.SUCCESSFUL)
_MANUAL = (CoverageStatus.INACTIVE, CoverageReason.SCAN_FREQUENCY_MANUAL)
_PENDING = (CoverageStatus.ACTIVE, CoverageReason.PENDING_INITIAL_SCAN)

# CoverageFilterCriteria member -> the CoveredResource value it compares.
_STRING_FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "scanStatusCode": lambda c: c["scanStatus"]["statusCode"],
    "scanStatusReason": lambda c: c["scanStatus"]["reason"],
    "accountId": lambda c: c["accountId"],
    "resourceId": lambda c: c["resourceId"],
    "resourceType": lambda c: c["resourceType"],
    "scanType": lambda c: c["scanType"],
    "ecrRepositoryName": lambda c: c["_repository"],
}


def resources(conn: Connection, origin: Origin) -> list[dict[str, Any]]:
    """Every covered repository and image, repositories first, by name then push time."""
    config = policy.load_configuration(conn)
    if config.scan_type is not ScanType.ENHANCED:
        return []
    r, m, s = t.repositories, t.manifests, t.image_scans
    out: list[dict[str, Any]] = []
    frequency: dict[int, ScanFrequency] = {}
    for repo_id, name, scan_on_push in conn.execute(
        sa.select(r.c.id, r.c.name, r.c.scan_on_push).order_by(r.c.name)
    ):
        freq = policy.effective_scanning(config, name, bool(scan_on_push)).frequency
        frequency[repo_id] = freq
        status = _MANUAL if freq is ScanFrequency.MANUAL else _SUCCESSFUL
        out.append(_resource(origin, "AWS_ECR_REPOSITORY", origin.repository_arn(name), name,
                             status, {"ecrRepository": {"name": name, "scanFrequency": freq}},
                             None))  # fmt: skip
    query = (
        sa.select(m.c.id, m.c.repository_id, r.c.name, m.c.digest, m.c.last_pulled_at,
                  s.c.status, s.c.completed_at, s.c.scan_type)
        .join(r, r.c.id == m.c.repository_id)
        .outerjoin(s, sa.and_(s.c.repository_id == m.c.repository_id, s.c.digest == m.c.digest))
        .where(m.c.subject_digest.is_(None))  # referrers (SBOMs, VEX) are not images
        .order_by(r.c.name, m.c.pushed_at)
    )  # fmt: skip
    rows = list(conn.execute(query))
    tags = _tags(conn, [row.id for row in rows])
    for row in rows:
        if row.scan_type == ScanType.ENHANCED and row.status in _IMAGE_STATUS:
            status = _IMAGE_STATUS[row.status]
        elif frequency.get(row.repository_id) is ScanFrequency.MANUAL:
            status = _MANUAL
        else:
            status = _PENDING
        meta: dict[str, Any] = {"tags": tags.get(row.id, [])}
        if row.last_pulled_at is not None:
            meta["imagePulledAt"] = row.last_pulled_at
        scanned = row.completed_at if row.scan_type == ScanType.ENHANCED else None
        out.append(_resource(origin, "AWS_ECR_CONTAINER_IMAGE",
                             origin.image_arn(row.name, row.digest), row.name, status,
                             {"ecrImage": meta}, scanned))  # fmt: skip
    return out


def _resource(
    origin: Origin, kind: str, arn: str, repository: str,
    status: tuple[CoverageStatus, CoverageReason],
    metadata: dict[str, Any], scanned: float | None,
) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {
        "resourceType": kind, "resourceId": arn, "accountId": origin.account,
        "scanType": "PACKAGE", "scanStatus": {"statusCode": status[0], "reason": status[1]},
        "resourceMetadata": metadata, "_repository": repository,
    }  # fmt: skip
    if scanned is not None:
        out["lastScannedAt"] = scanned
    return out


def _tags(conn: Connection, ids: list[int]) -> dict[int, list[str]]:
    """Tags by manifest id (all of them: coverage lists every image anyway)."""
    out: dict[int, list[str]] = {}
    for manifest_id, name in conn.execute(
        sa.select(t.tags.c.manifest_id, t.tags.c.name).order_by(t.tags.c.name)
    ):
        out.setdefault(manifest_id, []).append(name)
    return out


def _string_match(value: str, items: list[Mapping[str, Any]]) -> bool:
    positive = [i for i in items if i["comparison"] != "NOT_EQUALS"]
    if any(value == i["value"] for i in items if i["comparison"] == "NOT_EQUALS"):
        return False
    if not positive:
        return True
    return any(
        value == i["value"] if i["comparison"] == "EQUALS" else value.startswith(i["value"])
        for i in positive
    )


def matching(items: list[dict[str, Any]], criteria: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = items
    for field, wanted in criteria.items():
        if not wanted:
            continue
        path = f"filterCriteria.{field}"
        if field in _STRING_FIELDS:
            get = _STRING_FIELDS[field]
            out = [c for c in out if _string_match(str(get(c)), wanted)]
        elif field == "ecrImageTags":
            out = [c for c in out if any(_string_match(tag, wanted) for tag in
                   c["resourceMetadata"].get("ecrImage", {}).get("tags", []))]  # fmt: skip
        elif field == "lastScannedAt":
            out = [c for c in out if any(_in_range(c.get("lastScannedAt"), w, path)
                                         for w in wanted)]  # fmt: skip
        else:
            raise invalid(path, "this filter applies to resources Tidegate does not scan")
    return out


def _in_range(value: float | None, window: Mapping[str, Any], path: str) -> bool:
    low = window.get("startInclusive")
    high = window.get("endInclusive")
    lo = filters.timestamp(low, path) if low is not None else None
    hi = filters.timestamp(high, path) if high is not None else None
    if lo is not None and hi is not None and lo > hi:
        raise invalid(path, "startInclusive must not be after endInclusive")
    if value is None:
        return False
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def public(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


_GROUPS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "SCAN_STATUS_CODE": lambda c: c["scanStatus"]["statusCode"],
    "SCAN_STATUS_REASON": lambda c: c["scanStatus"]["reason"],
    "ACCOUNT_ID": lambda c: c["accountId"],
    "RESOURCE_TYPE": lambda c: c["resourceType"],
    "ECR_REPOSITORY_NAME": lambda c: c["_repository"],
}


def statistics(items: list[dict[str, Any]], group_by: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"totalCounts": len(items)}
    if group_by is not None:
        key = _GROUPS.get(group_by)
        if key is None:
            raise invalid("groupBy", f"{group_by} does not apply to container images")
        counts = Counter(key(c) for c in items)
        out["countsByGroup"] = [{"groupKey": k, "count": n} for k, n in sorted(counts.items())]
    return out
