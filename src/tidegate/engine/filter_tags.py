"""TagResource, UntagResource and ListTagsForResource on Inspector filters.

Tags live in the filter's row (`finding_filters.tags`), so they go when the filter does.
The reserved `tidegate:expires` tag is a rule's expiry: setting, moving or removing it
re-applies the rules at once, as creating the rule with that tag would have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tidegate.db import reading
from tidegate.engine import finding_filters, suppression
from tidegate.engine.finding_filters import FilterRow
from tidegate.errors import NotFound
from tidegate.events.model import Origin
from tidegate.states import FilterAction


def _filter(conn: Connection, arn: str, *, lock: bool = False) -> FilterRow:
    # Filters are the only taggable resource here: any other ARN names nothing we have.
    row = finding_filters.by_arn(conn, arn, lock=lock)
    if row is None:
        raise NotFound(f"no taggable resource with ARN {arn}")
    return row


def tags_of(engine: Engine, arn: str) -> dict[str, str]:
    with reading(engine) as conn:
        return _filter(conn, arn).tags


def tag(engine: Engine, origin: Origin, arn: str, tags: Mapping[str, str], now: float) -> None:
    """Add or overwrite `tags`."""
    with engine.begin() as conn:
        old = _filter(conn, arn, lock=True)
        _replace(conn, origin, old, {**old.tags, **tags}, now)


def untag(engine: Engine, origin: Origin, arn: str, keys: Iterable[str], now: float) -> None:
    """Remove the tags with these keys; keys it does not have are no error (as in AWS)."""
    gone = set(keys)
    with engine.begin() as conn:
        old = _filter(conn, arn, lock=True)
        kept = {k: v for k, v in old.tags.items() if k not in gone}
        _replace(conn, origin, old, kept, now)


def _replace(
    conn: Connection, origin: Origin, old: FilterRow, tags: dict[str, str], now: float
) -> None:
    suppression.check_tags(tags)
    values: dict[str, Any] = {"tags": tags}
    if tags.get(suppression.EXPIRES_TAG) != old.tags.get(suppression.EXPIRES_TAG):
        values["expires_at"] = suppression.checked_expiry(tags, now)
    finding_filters.update(conn, old.id, values, now)
    if "expires_at" in values and old.action == FilterAction.SUPPRESS:
        suppression.reconcile(conn, origin, now)
