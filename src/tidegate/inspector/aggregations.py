"""ListFindingAggregations: ACTIVE enhanced findings grouped and counted per severity in SQL.

Each aggregation type is a GROUP BY over the same join ListFindings reads, so its totals
are the totals of the findings it would list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.engine import finding_criteria as filters
from tidegate.events.model import Origin
from tidegate.inspector.errors import invalid
from tidegate.inspector.findings import base_query
from tidegate.scanner.severity import INSPECTOR_SEVERITIES
from tidegate.states import FindingStatus, ScanType

f, r, m = t.findings, t.repositories, t.manifests
SEVERITIES = tuple(s.lower() for s in INSPECTOR_SEVERITIES)  # severityCounts members
# Inspector's sortBy names (RepositorySortBy, ...; not severities) -> the count they sort by.
SORT_COLUMNS = {"CRITICAL": "critical", "HIGH": "high", "ALL": "total", "AFFECTED_IMAGES": "images"}
DEFAULT_SORT = "CRITICAL"


def _image_arn(origin: Origin) -> sa.ColumnElement[str]:
    prefix = origin.image_arn("", "").rsplit("/", 2)[0]
    return sa.literal(prefix + "/") + r.c.name + "/" + f.c.digest


@dataclass(frozen=True, slots=True)
class Kind:
    request: str  # member of aggregationRequest / of each response
    keys: Callable[[Origin], list[sa.ColumnElement[Any]]]  # GROUP BY columns
    names: tuple[str, ...]  # response member of each key
    # aggregationRequest member -> the column its StringFilterList compares
    filters: Mapping[str, Callable[[Origin], sa.ColumnElement[Any]]]
    images: bool = False  # counts affectedImages
    fix_exploit: bool = False  # counts fixAvailableCount / exploitAvailableCount


KINDS: dict[str, Kind] = {
    "REPOSITORY": Kind(
        "repositoryAggregation", lambda o: [r.c.name], ("repository",),
        {"repositories": lambda o: r.c.name}, images=True,
    ),
    "AWS_ECR_CONTAINER": Kind(
        "awsEcrContainerAggregation",
        lambda o: [_image_arn(o), f.c.digest, r.c.name, m.c.id],
        ("resourceId", "imageSha", "repository", "_manifest"),
        {"repositories": lambda o: r.c.name, "imageShas": lambda o: f.c.digest,
         "resourceIds": _image_arn},
    ),
    "IMAGE_LAYER": Kind(
        "imageLayerAggregation", lambda o: [r.c.name, _image_arn(o), f.c.layer],
        ("repository", "resourceId", "layerHash"),
        {"repositories": lambda o: r.c.name, "resourceIds": _image_arn,
         "layerHashes": lambda o: f.c.layer},
    ),
    "PACKAGE": Kind(
        "packageAggregation", lambda o: [f.c.package_name], ("packageName",),
        {"packageNames": lambda o: f.c.package_name},
    ),
    "TITLE": Kind(
        "titleAggregation", lambda o: [filters._title(), f.c.vuln_id],
        ("title", "vulnerabilityId"),
        {"titles": lambda o: filters._title(), "vulnerabilityIds": lambda o: f.c.vuln_id},
    ),
    "FINDING_TYPE": Kind(
        "findingTypeAggregation", lambda o: [], (), {}, fix_exploit=True,
    ),
    "ACCOUNT": Kind("accountAggregation", lambda o: [], (), {}, fix_exploit=True),
}  # fmt: skip


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


@dataclass(frozen=True, slots=True)
class Page:
    responses: list[dict[str, Any]]
    more: bool


def aggregate(
    conn: Connection,
    origin: Origin,
    kind_name: str,
    request: Mapping[str, Any],
    *,
    offset: int,
    limit: int,
) -> Page:
    kind = KINDS.get(kind_name)
    if kind is None:
        raise invalid("aggregationType", f"{kind_name} does not apply to container images")
    given = dict(request)
    own = given.pop(kind.request, None) or {}
    if given:
        other = next(iter(given))
        raise invalid(f"aggregationRequest.{other}", f"does not match aggregationType {kind_name}")
    clauses: list[sa.ColumnElement[bool]] = [f.c.status == FindingStatus.ACTIVE]
    for member, items in own.items():
        if member in ("sortBy", "sortOrder"):
            continue
        if member in ("findingType", "resourceType"):
            if items not in ("PACKAGE_VULNERABILITY", "AWS_ECR_CONTAINER"):
                clauses.append(sa.false())
            continue
        column = kind.filters.get(member)
        if column is None:
            raise invalid(f"aggregationRequest.{kind.request}.{member}",
                          "this filter applies to resources Tidegate does not scan")  # fmt: skip
        clauses.append(filters._strings(column(origin), items))
    if kind_name == "REPOSITORY":
        return _repositories(conn, origin, own, offset=offset, limit=limit)
    keys = kind.keys(origin)
    counts = [_count(f.c.severity == s.upper()).label(s) for s in SEVERITIES]
    columns: list[Any] = [*[k.label(f"k{i}") for i, k in enumerate(keys)], *counts,
                          sa.func.count().label("total")]  # fmt: skip
    if kind.images:
        columns.append(sa.func.count(sa.distinct(m.c.id)).label("images"))
    if kind.fix_exploit:
        columns.append(_count(f.c.fix_available == "YES").label("fix"))
        columns.append(_count(f.c.exploit_available == "YES").label("exploit"))
    query = base_query(columns, {}, origin).where(*clauses)
    if keys:
        query = query.group_by(*keys)
    sort_column = SORT_COLUMNS[own.get("sortBy", DEFAULT_SORT)]
    sort: sa.ColumnClause[Any] = sa.literal_column(sort_column)
    order: list[Any] = [sort.asc() if own.get("sortOrder") == "ASC" else sort.desc()]
    order += [sa.literal_column(f"k{i}") for i in range(len(keys))]
    rows = list(conn.execute(query.order_by(*order).offset(offset).limit(limit + 1)).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    if not keys and rows and rows[0]["total"] == 0:
        rows = []
    tags = _tags(conn, [row["k3"] for row in rows]) if kind_name == "AWS_ECR_CONTAINER" else {}
    out = []
    for row in rows:
        item: dict[str, Any] = {"accountId": origin.account}
        for i, name in enumerate(kind.names):
            if name == "_manifest":
                item["imageTags"] = tags.get(row[f"k{i}"], [])
            else:
                item[name] = row[f"k{i}"]
        item["severityCounts"] = {s: int(row[s] or 0) for s in SEVERITIES}
        item["severityCounts"]["all"] = int(row["total"])
        if kind.images:
            item["affectedImages"] = int(row["images"])
        if kind.fix_exploit:
            item["fixAvailableCount"] = int(row["fix"] or 0)
            item["exploitAvailableCount"] = int(row["exploit"] or 0)
        out.append({kind.request: item})
    return Page(out, more)


def _tags(conn: Connection, manifest_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    query = sa.select(t.tags.c.manifest_id, t.tags.c.name).where(
        t.tags.c.manifest_id.in_(manifest_ids)
    )
    for manifest_id, name in conn.execute(query.order_by(t.tags.c.name)):
        out.setdefault(manifest_id, []).append(name)
    return out


def _repositories(
    conn: Connection, origin: Origin, own: Mapping[str, Any], *, offset: int, limit: int
) -> Page:
    """REPOSITORY from each image's stored severity counts (kept equal to its ACTIVE
    findings by every scan and re-scan): 10,000 image rows instead of 1,000,000 findings."""
    s = t.image_scans
    query = (
        sa.select(r.c.name, s.c.severity_counts)
        .select_from(s)
        .join(r, r.c.id == s.c.repository_id)
        .join(m, sa.and_(m.c.repository_id == s.c.repository_id, m.c.digest == s.c.digest))
        .where(s.c.scan_type == ScanType.ENHANCED)
    )
    if own.get("repositories"):
        query = query.where(filters._strings(r.c.name, own["repositories"]))
    totals: dict[str, dict[str, int]] = {}
    for name, text in conn.execute(query):
        counts = orjson.loads(text or "{}")
        total = totals.setdefault(name, {"images": 0, "total": 0})
        if not any(counts.values()):
            continue
        total["images"] += 1
        for severity, n in counts.items():
            total[severity.lower()] = total.get(severity.lower(), 0) + int(n)
            total["total"] += int(n)
    sort = SORT_COLUMNS[own.get("sortBy", DEFAULT_SORT)]
    sign = 1 if own.get("sortOrder") == "ASC" else -1
    ranked = sorted(
        ((n, c) for n, c in totals.items() if c["total"]),
        key=lambda item: (sign * item[1].get(sort, 0), item[0]),
    )
    page = ranked[offset : offset + limit]
    out = []
    for name, c in page:
        counts = {sev: c.get(sev, 0) for sev in SEVERITIES}
        counts["all"] = c["total"]
        out.append({"repositoryAggregation": {
            "repository": name, "accountId": origin.account,
            "severityCounts": counts, "affectedImages": c["images"],
        }})  # fmt: skip
    return Page(out, len(ranked) > offset + limit)
