"""The `finding_filters` table: Inspector filters, SUPPRESS ones being suppression rules.

Only this module writes the table; `engine.suppression` decides what a change means for the
findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.states import FilterAction

ff = t.finding_filters


@dataclass(frozen=True, slots=True)
class FilterRow:
    id: int
    arn: str
    name: str
    action: FilterAction
    criteria: dict[str, Any]
    description: str | None
    reason: str | None
    tags: dict[str, str]
    owner_id: str
    author: str | None
    created_at: float
    updated_at: float
    expires_at: float | None
    lapsed_at: float | None

    def holds_at(self, now: float) -> bool:
        """A SUPPRESS rule suppresses until its expiry (if it has one)."""
        suppresses = self.action == FilterAction.SUPPRESS
        return suppresses and (self.expires_at is None or self.expires_at > now)


def _row(m: sa.RowMapping) -> FilterRow:
    return FilterRow(
        id=int(m["id"]), arn=m["arn"], name=m["name"], action=FilterAction(m["action"]),
        criteria=orjson.loads(m["criteria"]), description=m["description"],
        reason=m["reason"], tags=orjson.loads(m["tags"]), owner_id=m["owner_id"],
        author=m["author"], created_at=float(m["created_at"]),
        updated_at=float(m["updated_at"]), expires_at=m["expires_at"], lapsed_at=m["lapsed_at"],
    )  # fmt: skip


def _dump(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def all_filters(conn: Connection, *, action: str | None = None) -> list[FilterRow]:
    """Every filter, oldest first (`action` narrows them)."""
    query = sa.select(ff).order_by(ff.c.id)
    if action is not None:
        query = query.where(ff.c.action == action)
    return [_row(m) for m in conn.execute(query).mappings()]


def holding(conn: Connection, now: float) -> list[FilterRow]:
    """The SUPPRESS rules in force at `now`."""
    query = (
        sa.select(ff)
        .where(
            ff.c.action == FilterAction.SUPPRESS,
            sa.or_(ff.c.expires_at.is_(None), ff.c.expires_at > now),
        )
        .order_by(ff.c.id)
    )
    return [_row(m) for m in conn.execute(query).mappings()]


def by_arn(conn: Connection, arn: str, *, lock: bool = False) -> FilterRow | None:
    query = sa.select(ff).where(ff.c.arn == arn)
    if lock:
        query = query.with_for_update()
    found = conn.execute(query).mappings().first()
    return None if found is None else _row(found)


def by_name(conn: Connection, name: str) -> FilterRow | None:
    found = conn.execute(sa.select(ff).where(ff.c.name == name)).mappings().first()
    return None if found is None else _row(found)


def insert(
    conn: Connection,
    *,
    arn: str,
    name: str,
    action: str,
    criteria: Mapping[str, Any],
    description: str | None,
    reason: str | None,
    tags: Mapping[str, str],
    owner_id: str,
    author: str | None,
    now: float,
    expires_at: float | None,
) -> None:
    conn.execute(
        sa.insert(ff).values(
            arn=arn, name=name, action=action, criteria=_dump(criteria),
            description=description, reason=reason, tags=_dump(tags), owner_id=owner_id,
            author=author, created_at=now, updated_at=now, expires_at=expires_at,
        )
    )  # fmt: skip


def update(conn: Connection, filter_id: int, values: Mapping[str, Any], now: float) -> None:
    """Change the given columns (criteria and tags as objects); clears `lapsed_at` when the
    expiry moves, so a rule extended past its old expiry holds again."""
    stored = dict(values)
    for key in ("criteria", "tags"):
        if key in stored:
            stored[key] = _dump(stored[key])
    if "expires_at" in stored:
        stored["lapsed_at"] = None
    conn.execute(sa.update(ff).where(ff.c.id == filter_id).values(**stored, updated_at=now))


def delete(conn: Connection, filter_id: int) -> None:
    conn.execute(sa.delete(ff).where(ff.c.id == filter_id))


def due_to_lapse(conn: Connection, now: float) -> list[FilterRow]:
    """SUPPRESS rules whose expiry has passed and whose findings were not re-evaluated yet."""
    query = sa.select(ff).where(
        ff.c.action == FilterAction.SUPPRESS, ff.c.expires_at <= now, ff.c.lapsed_at.is_(None)
    )
    return [_row(m) for m in conn.execute(query).mappings()]


def mark_lapsed(conn: Connection, ids: Sequence[int], now: float) -> None:
    if ids:
        conn.execute(sa.update(ff).where(ff.c.id.in_(list(ids))).values(lapsed_at=now))
