"""Inspector filters and suppression rules: create, update, delete, list, expire, report.

A SUPPRESS filter (or a `not_affected`/`fixed` VEX statement, `engine.vex`) moves the open
enhanced findings its criteria match to SUPPRESSED, at once and as scans find them later
(`rules_clause` is passed to `findings.store_many`); deleting it, or its expiry passing,
moves them back to ACTIVE. The status is materialised
on the findings rows, so every read that counts ACTIVE findings (the ECR summaries, the
aggregations, the console) agrees without knowing rules exist. Each move is an `Inspector2
Finding` event with the new status, and the moved images' severity counts are recounted.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tidegate import schema as t
from tidegate.db import reading
from tidegate.engine import finding_criteria as criteria
from tidegate.engine import finding_filters, notify, scans, vex
from tidegate.engine import findings as store
from tidegate.engine.finding_filters import FilterRow
from tidegate.errors import Conflict, NotFound
from tidegate.events.model import Origin
from tidegate.registry import metadata
from tidegate.registry.metadata import by_repository
from tidegate.states import FilterAction

EXPIRES_TAG = "tidegate:expires"  # ISO 8601 date or time; Inspector filters have no expiry
MAX_TAGS = 50  # per resource, as AWS tagging allows; the model bounds only keys and values


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """What CreateFilter/UpdateFilter ask for; None members are left as they are."""

    name: str | None = None
    action: str | None = None
    criteria: Mapping[str, Any] | None = None
    description: str | None = None
    reason: str | None = None
    tags: Mapping[str, str] | None = None


def filter_arn(origin: Origin, filter_id: str) -> str:
    """Inspector's filter ARN: `arn:aws:inspector2:REGION:ACCOUNT:owner/ACCOUNT/filter/ID`."""
    account = origin.account
    return f"arn:aws:inspector2:{origin.region}:{account}:owner/{account}/filter/{filter_id}"


def expiry_of(tags: Mapping[str, str]) -> float | None:
    """The `tidegate:expires` tag as epoch seconds (a date alone is 00:00 UTC that day)."""
    text = tags.get(EXPIRES_TAG)
    if text is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise criteria.invalid(
            f"tags.{EXPIRES_TAG}", f"'{text}' is not an ISO 8601 date or time (2027-01-31)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def check_tags(tags: Mapping[str, str]) -> None:
    """A filter's whole tag set: at most MAX_TAGS, none under AWS's reserved `aws:` prefix
    (the model checks each key's and value's length)."""
    if len(tags) > MAX_TAGS:
        raise criteria.invalid("tags", f"a resource has at most {MAX_TAGS} tags, not {len(tags)}")
    for key in tags:
        if key.lower().startswith("aws:"):
            raise criteria.invalid("tags", f"'{key}': the aws: prefix is reserved for AWS")


def checked_expiry(tags: Mapping[str, str], now: float) -> float | None:
    """The expiry the tags give a rule; one already past is refused, since it would never
    have suppressed anything."""
    expires_at = expiry_of(tags)
    if expires_at is not None and expires_at <= now:
        raise criteria.invalid(f"tags.{EXPIRES_TAG}", "the expiry has already passed")
    return expires_at


def _check_criteria(spec_criteria: Mapping[str, Any], action: str, origin: Origin) -> None:
    """Compile the criteria once (reversed ranges, unsupported fields raise) and refuse what
    a rule cannot mean: no criteria at all, or a status (a rule decides the status)."""
    if not any(spec_criteria.values()):
        raise criteria.invalid("filterCriteria", "at least one criterion is required")
    if action == FilterAction.SUPPRESS and spec_criteria.get("findingStatus"):
        raise criteria.invalid(
            "filterCriteria.findingStatus",
            "a suppression rule sets the status; it cannot also select by it",
        )
    criteria.where(spec_criteria, origin)


def rules_clause(conn: Connection, origin: Origin, now: float) -> sa.ColumnElement[bool] | None:
    """What the SUPPRESS rules in force at `now` and the suppressing VEX statements match,
    OR-ed; None when nothing suppresses."""
    parts = [sa.and_(sa.true(), *criteria.where(r.criteria, origin))
             for r in finding_filters.holding(conn, now)]  # fmt: skip
    statements = vex.clause(conn)
    if statements is not None:
        parts.append(statements)
    return sa.or_(*parts) if parts else None


def _tell(conn: Connection, origin: Origin, moved: Sequence[store.Row]) -> None:
    """Recount the moved findings' images and emit one finding event per move."""
    by_image: dict[store.ImageKey, list[store.Row]] = defaultdict(list)
    for row in moved:
        by_image[(row["repository_id"], row["digest"])].append(row)
    if not by_image:
        return
    scans.replace_severity_counts(conn, store.severity_counts_many(conn, list(by_image)))
    images = _images(conn, list(by_image))
    repos = {i: metadata.find_repo_by_id(conn, i) for i in {k[0] for k in by_image}}
    told = []
    for key, rows in sorted(by_image.items()):
        repo, image = repos[key[0]], images.get(key)
        if repo is not None and image is not None:
            told.append((repo, image, store.FindingChanges(changed=list(rows))))
    notify.finding_events_many(origin, conn, told)


@dataclass(frozen=True, slots=True)
class _Image:
    """What finding events need of an image (`notify.ImageRow`)."""

    id: int
    digest: str
    pushed_at: float


def _images(conn: Connection, keys: Sequence[store.ImageKey]) -> dict[store.ImageKey, _Image]:
    """The images' manifest rows, a few hundred per query (a broad rule moves thousands)."""
    m = t.manifests
    out: dict[store.ImageKey, _Image] = {}
    for repository_id, digests in by_repository(keys).items():
        for start in range(0, len(digests), 500):
            query = sa.select(m.c.id, m.c.digest, m.c.pushed_at).where(
                m.c.repository_id == repository_id, m.c.digest.in_(digests[start : start + 500])
            )
            for manifest_id, digest, pushed_at in conn.execute(query):
                out[(repository_id, str(digest))] = _Image(int(manifest_id), str(digest),
                                                           float(pushed_at))  # fmt: skip
    return out


def reconcile(
    conn: Connection, origin: Origin, now: float, images: Sequence[store.ImageKey] | None = None
) -> int:
    """Re-apply the rules and VEX statements in force to the open findings of `images`
    (None: every image); returns how many moved."""
    moved = store.resuppress(conn, rules_clause(conn, origin, now), now, images)
    _tell(conn, origin, moved)
    return len(moved)


def _taken(conn: Connection, name: str, arn: str | None = None) -> None:
    other = finding_filters.by_name(conn, name)
    if other is not None and other.arn != arn:
        raise Conflict(
            f"a filter named {name!r} already exists",
            detail={"resourceId": other.arn, "resourceType": "FILTER"},
        )


def create(
    engine: Engine,
    origin: Origin,
    name: str,
    action: str,
    spec: FilterSpec,
    *,
    author: str | None,
    now: float,
) -> str:
    """CreateFilter: store the filter and, for SUPPRESS, suppress what it matches now;
    returns its ARN. `spec.criteria` is required."""
    tags = dict(spec.tags or {})
    check_tags(tags)
    expires_at = checked_expiry(tags, now)
    _check_criteria(spec.criteria or {}, action, origin)
    arn = filter_arn(origin, secrets.token_hex(8))
    try:
        with engine.begin() as conn:
            _taken(conn, name)
            finding_filters.insert(
                conn, arn=arn, name=name, action=action, criteria=spec.criteria or {},
                description=spec.description, reason=spec.reason, tags=tags,
                owner_id=origin.account, author=author, now=now, expires_at=expires_at,
            )  # fmt: skip
            if action == FilterAction.SUPPRESS:
                reconcile(conn, origin, now)
    except sa.exc.IntegrityError:  # the same name created concurrently
        raise Conflict(f"a filter named {name!r} already exists",
                       detail={"resourceId": name, "resourceType": "FILTER"}) from None  # fmt: skip
    return arn


def _existing(conn: Connection, arn: str, *, lock: bool = False) -> FilterRow:
    row = finding_filters.by_arn(conn, arn, lock=lock)
    if row is None:
        raise NotFound(f"no filter with ARN {arn}")
    return row


def update(engine: Engine, origin: Origin, arn: str, spec: FilterSpec, now: float) -> FilterRow:
    """UpdateFilter: change the given members; the rules are re-applied when it matters."""
    with engine.begin() as conn:
        old = _existing(conn, arn, lock=True)
        action = spec.action or old.action
        new_criteria = dict(spec.criteria) if spec.criteria is not None else old.criteria
        _check_criteria(new_criteria, action, origin)
        if spec.name is not None:
            _taken(conn, spec.name, arn)
        values: dict[str, Any] = {
            key: value
            for key, value in (("name", spec.name), ("action", spec.action),
                               ("criteria", spec.criteria), ("description", spec.description),
                               ("reason", spec.reason))
            if value is not None
        }  # fmt: skip
        finding_filters.update(conn, old.id, values, now)
        suppressing = FilterAction.SUPPRESS in (old.action, action)
        if suppressing and ("action" in values or "criteria" in values):
            reconcile(conn, origin, now)
        return _existing(conn, arn)


def delete(engine: Engine, origin: Origin, arn: str, now: float) -> FilterRow:
    """DeleteFilter: what only this rule suppressed becomes ACTIVE again."""
    with engine.begin() as conn:
        old = _existing(conn, arn, lock=True)
        finding_filters.delete(conn, old.id)
        if old.action == FilterAction.SUPPRESS:
            reconcile(conn, origin, now)
    return old


def list_filters(
    conn: Connection, *, arns: Sequence[str] | None = None, action: str | None = None
) -> list[FilterRow]:
    rows = finding_filters.all_filters(conn, action=action)
    if arns:
        wanted = set(arns)
        rows = [r for r in rows if r.arn in wanted]
    return rows


def lapse_due(engine: Engine, origin: Origin, now: float) -> int:
    """Apply the expiry of rules whose time has come; returns how many findings moved."""
    with reading(engine) as conn:
        if not finding_filters.due_to_lapse(conn, now):
            return 0
    with engine.begin() as conn:
        due = finding_filters.due_to_lapse(conn, now)
        if not due:
            return 0
        finding_filters.mark_lapsed(conn, [r.id for r in due], now)
        return reconcile(conn, origin, now)


@dataclass(frozen=True, slots=True)
class RuleReport:
    """A filter with how many open findings it matches now; `stale` when it matches none."""

    rule: FilterRow
    matching: int
    expired: bool

    @property
    def stale(self) -> bool:
        return self.matching == 0

    def as_dict(self) -> dict[str, Any]:
        r = self.rule
        return {
            "arn": r.arn, "name": r.name, "action": r.action, "reason": r.reason,
            "description": r.description, "author": r.author, "createdAt": r.created_at,
            "expiresAt": r.expires_at, "expired": self.expired, "matching": self.matching,
            "stale": self.stale,
        }  # fmt: skip


def report(conn: Connection, origin: Origin, now: float) -> list[RuleReport]:
    """Every filter and the open findings it matches (an expired rule still counts what it
    would match), so rules that match nothing any more can be cleaned up."""
    f = t.findings
    out = []
    for rule in finding_filters.all_filters(conn):
        query = criteria.joined(
            [sa.func.count()], f.c.status.in_(store.OPEN), *criteria.where(rule.criteria, origin)
        )
        matching = int(conn.execute(query).scalar_one())
        expired = rule.action == FilterAction.SUPPRESS and not rule.holds_at(now)
        out.append(RuleReport(rule, matching, expired))
    return out


def report_now(engine: Engine, origin: Origin, now: float) -> list[RuleReport]:
    with reading(engine) as conn:
        return report(conn, origin, now)
