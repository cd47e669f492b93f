"""IAM-style users and the policies attached to them (managed by name, or inline documents)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.auth.actions import known_actions
from tidegate.auth.managed import MANAGED, managed_name
from tidegate.auth.policy import Policy, PolicyError, parse_policy
from tidegate.db import reading
from tidegate.errors import InvalidParameter, NotFound

# IAM's user-name pattern and length.
_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
_INLINE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")


@dataclass(frozen=True, slots=True)
class AttachedPolicy:
    name: str
    document: str | None  # None: the managed policy of that name

    @property
    def managed(self) -> bool:
        return self.document is None


@dataclass(frozen=True, slots=True)
class User:
    name: str
    created_at: float
    policies: tuple[AttachedPolicy, ...]


def check_user_name(name: str) -> None:
    if not _NAME_RE.match(name):
        msg = f"user name {name!r} must be 1-64 characters of letters, digits and +=,.@_-"
        raise InvalidParameter(msg)


class UserStore:
    """Users and their attached policies in the metadata database."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def create(self, name: str) -> User:
        check_user_name(name)
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(t.iam_users.c.name).where(t.iam_users.c.name == name)
            ).first()
            if exists is not None:
                msg = f"user {name!r} already exists"
                raise InvalidParameter(msg)
            now = self.clock()
            conn.execute(sa.insert(t.iam_users).values(name=name, created_at=now))
        return User(name, now, ())

    def ensure(self, name: str, managed: str | None = None) -> None:
        """Create the user if missing and attach `managed` to it (first start, migration)."""
        with self.engine.begin() as conn:
            if conn.execute(
                sa.select(t.iam_users.c.name).where(t.iam_users.c.name == name)
            ).first():
                return
            now = self.clock()
            conn.execute(sa.insert(t.iam_users).values(name=name, created_at=now))
            if managed is not None:
                conn.execute(
                    sa.insert(t.iam_user_policies).values(
                        user_name=name, policy_name=managed, document=None, attached_at=now
                    )
                )

    def exists(self, name: str) -> bool:
        with reading(self.engine) as conn:
            row = conn.execute(sa.select(t.iam_users.c.name).where(t.iam_users.c.name == name))
            return row.first() is not None

    def get(self, name: str) -> User:
        with reading(self.engine) as conn:
            row = conn.execute(sa.select(t.iam_users).where(t.iam_users.c.name == name)).first()
            if row is None:
                msg = f"no user {name!r}"
                raise NotFound(msg)
            attached = conn.execute(
                sa.select(t.iam_user_policies.c.policy_name, t.iam_user_policies.c.document)
                .where(t.iam_user_policies.c.user_name == name)
                .order_by(t.iam_user_policies.c.policy_name)
            ).all()
        return User(name, row.created_at, tuple(AttachedPolicy(p, d) for p, d in attached))

    def list(self) -> list[User]:
        with reading(self.engine) as conn:
            names = conn.execute(sa.select(t.iam_users.c.name).order_by(t.iam_users.c.name))
            found = [n for (n,) in names]
        return [self.get(n) for n in found]

    def delete(self, name: str) -> None:
        """Delete the user, its policies and revoke its keys (they would sign as nobody)."""
        with self.engine.begin() as conn:
            done = conn.execute(sa.delete(t.iam_users).where(t.iam_users.c.name == name))
            if done.rowcount == 0:
                msg = f"no user {name!r}"
                raise NotFound(msg)
            conn.execute(
                sa.delete(t.iam_user_policies).where(t.iam_user_policies.c.user_name == name)
            )
            conn.execute(
                sa.update(t.access_keys)
                .where(t.access_keys.c.principal == name, t.access_keys.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )

    def attach(self, name: str, policy: str, document: str | None = None) -> AttachedPolicy:
        """Attach a managed policy (`document` None) or an inline one named `policy`."""
        if document is None:
            managed = managed_name(policy)
            if managed is None:
                msg = f"no managed policy {policy!r}; known: {', '.join(sorted(MANAGED))}"
                raise InvalidParameter(msg)
            policy = managed
        else:
            if not _INLINE_NAME_RE.match(policy):
                msg = f"inline policy name {policy!r} is not valid"
                raise InvalidParameter(msg)
            try:
                parse_policy(document, known_actions=known_actions())
            except PolicyError as exc:
                msg = f"invalid policy document: {exc}"
                raise InvalidParameter(msg) from None
        if not self.exists(name):
            msg = f"no user {name!r}"
            raise NotFound(msg)
        with self.engine.begin() as conn:
            conn.execute(
                sa.delete(t.iam_user_policies).where(
                    t.iam_user_policies.c.user_name == name,
                    t.iam_user_policies.c.policy_name == policy,
                )
            )
            conn.execute(
                sa.insert(t.iam_user_policies).values(
                    user_name=name, policy_name=policy, document=document, attached_at=self.clock()
                )
            )
        return AttachedPolicy(policy, document)

    def detach(self, name: str, policy: str) -> None:
        policy = managed_name(policy) or policy
        with self.engine.begin() as conn:
            done = conn.execute(
                sa.delete(t.iam_user_policies).where(
                    t.iam_user_policies.c.user_name == name,
                    t.iam_user_policies.c.policy_name == policy,
                )
            )
        if done.rowcount == 0:
            msg = f"user {name!r} has no policy {policy!r} attached"
            raise NotFound(msg)

    def identity_policies(self, name: str) -> tuple[Policy, ...]:
        """The parsed policies of a user (empty for an unknown user)."""
        with reading(self.engine) as conn:
            rows = conn.execute(
                sa.select(t.iam_user_policies.c.policy_name, t.iam_user_policies.c.document).where(
                    t.iam_user_policies.c.user_name == name
                )
            ).all()
        found: list[Policy] = []
        for policy_name, document in rows:
            if document is None:
                if policy_name in MANAGED:
                    found.append(MANAGED[policy_name])
            else:
                found.append(parse_policy(json.loads(document)))
        return tuple(found)
