"""The Inspector2 operations Tidegate answers, by model name."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from tidegate import schema as t
from tidegate.auth.principal import Principal
from tidegate.config import Settings
from tidegate.db import reading
from tidegate.engine import filter_tags, rescan, suppression, usage
from tidegate.engine.finding_filters import FilterRow
from tidegate.events.model import Origin
from tidegate.inspector import aggregations, coverage, findings
from tidegate.inspector.errors import invalid
from tidegate.inspector.reports import ReportOperations
from tidegate.registry.repositories import write_setting
from tidegate.registry.service import RegistryService
from tidegate.states import ScanType

DEFAULT_PAGE = 50


@dataclass(frozen=True, slots=True)
class InspectorContext:
    settings: Settings
    registry: RegistryService
    principal: Principal | None

    @property
    def origin(self) -> Origin:
        return Origin(self.settings.registry_id, self.settings.region)


def _offset(p: dict[str, Any], operation: str) -> int:
    token = p.get("nextToken")
    if not token:
        return 0
    try:
        data = orjson.loads(base64.urlsafe_b64decode(str(token).encode()))
        if data["op"] != operation or not isinstance(data["offset"], int) or data["offset"] < 0:
            raise ValueError
        return int(data["offset"])
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise invalid("nextToken", "the token is not one this operation returned") from None


def _token(operation: str, offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"op": operation, "offset": offset})).decode()


def list_findings(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    offset = _offset(p, "ListFindings")
    size = int(p.get("maxResults") or DEFAULT_PAGE)
    with reading(ctx.registry.engine) as conn:
        page = findings.list_findings(
            conn, ctx.origin, p.get("filterCriteria") or {}, p.get("sortCriteria"),
            offset=offset, limit=size,
        )  # fmt: skip
    out: dict[str, Any] = {"findings": page.findings}
    if page.more:
        out["nextToken"] = _token("ListFindings", offset + size)
    return out


def list_finding_aggregations(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    offset = _offset(p, "ListFindingAggregations")
    size = int(p.get("maxResults") or DEFAULT_PAGE)
    kind = p["aggregationType"]
    with reading(ctx.registry.engine) as conn:
        page = aggregations.aggregate(
            conn, ctx.origin, kind, p.get("aggregationRequest") or {}, offset=offset, limit=size
        )
    out: dict[str, Any] = {"aggregationType": kind, "responses": page.responses}
    if page.more:
        out["nextToken"] = _token("ListFindingAggregations", offset + size)
    return out


def list_coverage(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    offset = _offset(p, "ListCoverage")
    size = int(p.get("maxResults") or DEFAULT_PAGE)
    with reading(ctx.registry.engine) as conn:
        items = coverage.resources(conn, ctx.origin)
    items = coverage.matching(items, p.get("filterCriteria") or {})
    out: dict[str, Any] = {"coveredResources": [coverage.public(c) for c in
                                                items[offset : offset + size]]}  # fmt: skip
    if len(items) > offset + size:
        out["nextToken"] = _token("ListCoverage", offset + size)
    return out


def list_coverage_statistics(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    with reading(ctx.registry.engine) as conn:
        items = coverage.resources(conn, ctx.origin)
    items = coverage.matching(items, p.get("filterCriteria") or {})
    return coverage.statistics(items, p.get("groupBy"))


def batch_get_finding_details(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    """Reference URLs and CWEs of each finding; unknown ARNs are per-item errors."""
    prefix = ctx.origin.finding_arn("")
    keys = {arn: arn[len(prefix) :] for arn in p["findingArns"] if arn.startswith(prefix)}
    f, d = t.findings, t.finding_details
    with reading(ctx.registry.engine) as conn:
        rows = conn.execute(
            sa.select(f.c.finding_key, d.c.details)
            .join(d, d.c.id == f.c.details_id)
            .where(f.c.scan_type == ScanType.ENHANCED, f.c.finding_key.in_(set(keys.values())))
        )
        found = {key: orjson.loads(text) for key, text in rows}
    details, errors = [], []
    for arn in p["findingArns"]:
        info = found.get(keys.get(arn, ""))
        if info is None:
            errors.append({"findingArn": arn, "errorCode": "FINDING_DETAILS_NOT_FOUND",
                           "errorMessage": "no finding with this ARN"})  # fmt: skip
            continue
        item: dict[str, Any] = {"findingArn": arn, "referenceUrls": info.get("references", [])}
        cwes = info.get("cwes") or info.get("cwe_ids")
        if cwes:
            item["cwes"] = list(cwes)
        details.append(item)
    return {"findingDetails": details, "errors": errors}


def _spec(p: dict[str, Any]) -> suppression.FilterSpec:
    return suppression.FilterSpec(
        name=p.get("name"), action=p.get("action"), criteria=p.get("filterCriteria"),
        description=p.get("description"), reason=p.get("reason"), tags=p.get("tags"),
    )  # fmt: skip


def create_filter(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    """A saved filter; SUPPRESS makes it a suppression rule (`tidegate:expires` tag: expiry)."""
    author = ctx.principal.arn if ctx.principal is not None else None
    arn = suppression.create(ctx.registry.engine, ctx.origin, p["name"], p["action"], _spec(p),
                             author=author, now=time.time())  # fmt: skip
    return {"arn": arn}


def update_filter(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    row = suppression.update(ctx.registry.engine, ctx.origin, p["filterArn"], _spec(p), time.time())
    return {"arn": row.arn}


def delete_filter(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    row = suppression.delete(ctx.registry.engine, ctx.origin, p["arn"], time.time())
    return {"arn": row.arn}


def _filter_shape(row: FilterRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "arn": row.arn, "ownerId": row.owner_id, "name": row.name, "criteria": row.criteria,
        "action": row.action, "createdAt": row.created_at, "updatedAt": row.updated_at,
        "tags": row.tags,
    }  # fmt: skip
    if row.description is not None:
        out["description"] = row.description
    if row.reason is not None:
        out["reason"] = row.reason
    return out


def list_filters(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    offset = _offset(p, "ListFilters")
    size = int(p.get("maxResults") or DEFAULT_PAGE)
    with reading(ctx.registry.engine) as conn:
        rows = suppression.list_filters(conn, arns=p.get("arns"), action=p.get("action"))
    out: dict[str, Any] = {"filters": [_filter_shape(r) for r in rows[offset : offset + size]]}
    if len(rows) > offset + size:
        out["nextToken"] = _token("ListFilters", offset + size)
    return out


def tag_resource(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    filter_tags.tag(ctx.registry.engine, ctx.origin, p["resourceArn"], p["tags"], time.time())
    return {}


def untag_resource(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    filter_tags.untag(ctx.registry.engine, ctx.origin, p["resourceArn"], p["tagKeys"],
                      time.time())  # fmt: skip
    return {}


def list_tags_for_resource(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"tags": filter_tags.tags_of(ctx.registry.engine, p["resourceArn"])}


_DURATIONS = {"LIFETIME": 0, "DAYS_3": 3, "DAYS_7": 7, "DAYS_14": 14, "DAYS_30": 30,
              "DAYS_60": 60, "DAYS_90": 90, "DAYS_180": 180}  # fmt: skip


def get_configuration(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    """ecrConfiguration: the continuous-scan window (`continuous_scan_duration_days`)."""
    with reading(ctx.registry.engine) as conn:
        days, updated = rescan.rescan_days(conn, ctx.settings.continuous_scan_duration_days)
    by_days = {v: k for k, v in _DURATIONS.items()}
    state: dict[str, Any] = {"rescanDuration": by_days.get(days, f"DAYS_{days}"),
                             "status": "SUCCESS"}  # fmt: skip
    if updated is not None:
        state["updatedAt"] = updated
    return {"ecrConfiguration": {"rescanDurationState": state}}


def update_configuration(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    days = _DURATIONS[p["ecrConfiguration"]["rescanDuration"]]
    with ctx.registry.engine.begin() as conn:
        write_setting(conn, rescan.RESCAN_SETTING, orjson.dumps({"days": days}).decode(),
                      time.time())  # fmt: skip
    return {}


def list_usage_totals(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    """This month's enhanced scans, priced as the usage report prices them."""
    rates = usage.rates_from(ctx.settings)
    with reading(ctx.registry.engine) as conn:
        lines = usage.report(conn, month=usage.month_of(time.time()), initial_rate=rates[0],
                             rescan_rate=rates[1])  # fmt: skip
    initial = sum(ln.initial_scans for ln in lines)
    rescans = sum(ln.rescans for ln in lines)
    totals = []
    for account in p.get("accountIds") or [ctx.settings.registry_id]:
        if account != ctx.settings.registry_id:
            continue
        totals.append({"accountId": account, "usage": [
            {"type": "ECR_INITIAL_SCAN", "total": float(initial),
             "estimatedMonthlyCost": round(initial * rates[0], 4), "currency": "USD"},
            {"type": "ECR_RESCAN", "total": float(rescans),
             "estimatedMonthlyCost": round(rescans * rates[1], 4), "currency": "USD"},
        ]})  # fmt: skip
    return {"totals": totals}


def batch_get_account_status(ctx: InspectorContext, p: dict[str, Any]) -> dict[str, Any]:
    """ECR scanning is what Tidegate does; every other resource type is off."""
    accounts = p.get("accountIds") or [ctx.settings.registry_id]
    enabled = {"status": "ENABLED"}
    disabled = {"status": "DISABLED"}
    out, failed = [], []
    for account in accounts:
        if account != ctx.settings.registry_id:
            failed.append({"accountId": account, "errorCode": "ACCOUNT_IS_ISOLATED",
                           "errorMessage": "not this registry's account"})  # fmt: skip
            continue
        out.append({
            "accountId": account,
            "state": enabled,
            "resourceState": {"ecr": enabled, "ec2": disabled, "lambda": disabled,
                              "lambdaCode": disabled, "codeRepository": disabled},
        })  # fmt: skip
    return {"accounts": out, "failedAccounts": failed}


def _reports(ctx: InspectorContext) -> ReportOperations:
    return ReportOperations(ctx.settings, ctx.registry.engine, ctx.origin)


OPERATIONS: dict[str, Callable[[InspectorContext, dict[str, Any]], dict[str, Any]]] = {
    "CreateFindingsReport": lambda ctx, p: _reports(ctx).create_findings_report(p),
    "GetFindingsReportStatus": lambda ctx, p: _reports(ctx).get_findings_report_status(p),
    "CancelFindingsReport": lambda ctx, p: _reports(ctx).cancel_findings_report(p),
    "CreateSbomExport": lambda ctx, p: _reports(ctx).create_sbom_export(p),
    "GetSbomExport": lambda ctx, p: _reports(ctx).get_sbom_export(p),
    "CancelSbomExport": lambda ctx, p: _reports(ctx).cancel_sbom_export(p),
    "ListFindings": list_findings,
    "BatchGetAccountStatus": batch_get_account_status,
    "ListFindingAggregations": list_finding_aggregations,
    "ListCoverage": list_coverage,
    "ListUsageTotals": list_usage_totals,
    "GetConfiguration": get_configuration,
    "UpdateConfiguration": update_configuration,
    "BatchGetFindingDetails": batch_get_finding_details,
    "ListCoverageStatistics": list_coverage_statistics,
    "CreateFilter": create_filter,
    "UpdateFilter": update_filter,
    "DeleteFilter": delete_filter,
    "ListFilters": list_filters,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
