"""Inspector `FilterCriteria` as SQL over findings ⨝ repositories ⨝ manifests.

Every filter Tidegate can answer is pushed into the WHERE clause (no Python-side
filtering), so a page costs one indexed query however many findings are stored. Filters on
resources Tidegate does not have (EC2, Lambda, code repositories) are refused rather than
answered with a guess. ListFindings, the aggregations and suppression rules all read
criteria here, so a rule suppresses exactly what ListFindings with its criteria returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from tidegate import schema as t
from tidegate.errors import InvalidParameter
from tidegate.events.model import Origin
from tidegate.states import ScanType

f, r, m = t.findings, t.repositories, t.manifests
Clause = sa.ColumnElement[bool]

FINDING_TYPE = "PACKAGE_VULNERABILITY"
RESOURCE_TYPE = "AWS_ECR_CONTAINER_IMAGE"


class CriteriaInvalid(InvalidParameter):
    """A filter criterion Tidegate cannot answer or that contradicts itself (a reversed
    range); `field` names it, so Inspector's ValidationException can list it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


def invalid(field: str, message: str) -> CriteriaInvalid:
    return CriteriaInvalid(field, message)


def _title() -> sa.ColumnElement[str]:
    return f.c.vuln_id + " - " + f.c.package_name


# String filters: field -> the column (or literal) it compares.
STRING_COLUMNS: dict[str, Callable[[], sa.ColumnElement[Any]]] = {
    "severity": lambda: f.c.severity,
    "findingStatus": lambda: f.c.status,
    "findingType": lambda: sa.literal(FINDING_TYPE),
    "resourceType": lambda: sa.literal(RESOURCE_TYPE),
    "ecrImageRepositoryName": lambda: r.c.name,
    "ecrImageHash": lambda: f.c.digest,
    "vulnerabilityId": lambda: f.c.vuln_id,
    "fixAvailable": lambda: f.c.fix_available,
    "exploitAvailable": lambda: f.c.exploit_available,
    "title": _title,
}
DATE_COLUMNS: dict[str, Callable[[], sa.ColumnElement[Any]]] = {
    "firstObservedAt": lambda: f.c.first_observed_at,
    "lastObservedAt": lambda: f.c.last_observed_at,
    "updatedAt": lambda: f.c.updated_at,
    "ecrImagePushedAt": lambda: m.c.pushed_at,
}
NUMBER_COLUMNS: dict[str, Callable[[], sa.ColumnElement[Any]]] = {
    "inspectorScore": lambda: f.c.score,
}
PACKAGE_COLUMNS: dict[str, Callable[[], sa.ColumnElement[Any]]] = {
    "name": lambda: f.c.package_name,
    "version": lambda: f.c.package_version,
    "sourceLayerHash": lambda: f.c.layer,
    "filePath": lambda: f.c.file_path,
}
SPECIAL = ("ecrImageTags", "vulnerablePackages", "awsAccountId", "ecrImageRegistry")


def timestamp(value: object, field: str) -> float:
    """A modeled Timestamp as epoch seconds (botocore sends numbers; people send ISO text)."""
    if isinstance(value, bool):
        raise invalid(field, "must be a timestamp")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            return parsed.timestamp()
    raise invalid(field, f"'{value}' is not a timestamp")


def _string(column: sa.ColumnElement[Any], one: Mapping[str, Any]) -> Clause:
    value = str(one["value"])
    comparison = one["comparison"]
    if comparison == "EQUALS":
        return column == value
    if comparison == "PREFIX":
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(escaped + "%", escape="\\")
    return column != value


def _strings(column: sa.ColumnElement[Any], items: list[Mapping[str, Any]]) -> Clause:
    """EQUALS/PREFIX entries of one field are alternatives; NOT_EQUALS entries all hold."""
    positive = [_string(column, i) for i in items if i["comparison"] != "NOT_EQUALS"]
    negative = [_string(column, i) for i in items if i["comparison"] == "NOT_EQUALS"]
    clauses: list[Clause] = [*negative]
    if positive:
        clauses.append(sa.or_(*positive))
    return sa.and_(sa.true(), *clauses)


def _range(column: sa.ColumnElement[Any], one: Mapping[str, Any], field: str, date: bool) -> Clause:
    low_key, high_key = ("startInclusive", "endInclusive") if date else (
        "lowerInclusive", "upperInclusive")  # fmt: skip
    convert: Callable[[object, str], float] = timestamp if date else (lambda v, _f: float(v))  # type: ignore[arg-type]
    low = convert(one[low_key], field) if one.get(low_key) is not None else None
    high = convert(one[high_key], field) if one.get(high_key) is not None else None
    if low is not None and high is not None and low > high:
        raise invalid(field, f"{low_key} must not be after {high_key}")
    clauses: list[Clause] = []
    if low is not None:
        clauses.append(column >= low)
    if high is not None:
        clauses.append(column <= high)
    return sa.and_(sa.true(), *clauses)


def where(criteria: Mapping[str, Any], origin: Origin) -> list[Clause]:
    """The WHERE clauses of `criteria` (already validated against the model)."""
    account = origin.account
    out: list[Clause] = []
    for field, items in criteria.items():
        if not items:
            continue
        path = f"filterCriteria.{field}"
        if field in STRING_COLUMNS:
            out.append(_strings(STRING_COLUMNS[field](), items))
        elif field == "findingArn":
            arn = origin.finding_arn("")
            out.append(_strings(sa.literal(arn) + f.c.finding_key, items))
        elif field in ("awsAccountId", "ecrImageRegistry"):
            out.append(_strings(sa.literal(account), items))
        elif field in DATE_COLUMNS:
            column = DATE_COLUMNS[field]()
            out.append(sa.or_(*[_range(column, i, path, True) for i in items]))
        elif field in NUMBER_COLUMNS:
            column = NUMBER_COLUMNS[field]()
            out.append(sa.or_(*[_range(column, i, path, False) for i in items]))
        elif field == "ecrImageTags":
            tag = t.tags
            exists = [
                sa.exists().where(tag.c.manifest_id == m.c.id, _string(tag.c.name, i))
                for i in items
                if i["comparison"] != "NOT_EQUALS"
            ]
            missing = [
                ~sa.exists().where(tag.c.manifest_id == m.c.id, tag.c.name == str(i["value"]))
                for i in items
                if i["comparison"] == "NOT_EQUALS"
            ]
            out.append(sa.and_(sa.true(), *missing, sa.or_(*exists) if exists else sa.true()))
        elif field == "vulnerablePackages":
            out.append(sa.or_(*[_package(p, path) for p in items]))
        else:
            raise invalid(path, "this filter applies to resources Tidegate does not scan")
    return out


def _package(one: Mapping[str, Any], path: str) -> Clause:
    clauses: list[Clause] = []
    for key, value in one.items():
        if key not in PACKAGE_COLUMNS:
            raise invalid(f"{path}.{key}", "this package filter is not supported")
        clauses.append(_string(PACKAGE_COLUMNS[key](), value))
    return sa.and_(sa.true(), *clauses)


def joined(columns: list[Any], *clauses: Clause) -> sa.Select[Any]:
    """SELECT `columns` FROM enhanced findings ⨝ their repository and image WHERE `clauses`."""
    return (
        sa.select(*columns)
        .select_from(f)
        .join(r, r.c.id == f.c.repository_id)
        .join(m, sa.and_(m.c.repository_id == f.c.repository_id, m.c.digest == f.c.digest))
        .where(f.c.scan_type == ScanType.ENHANCED, *clauses)
    )
