"""Access keys (ID + secret) for the ECR API's SigV4 and `/v2/` Basic auth, kept encrypted."""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.auth.secrets_box import SecretBox
from tidegate.db import reading
from tidegate.errors import NotFound

_ID_ALPHABET = string.ascii_uppercase + "234567"
# Secrets use the base64 alphabet AWS uses, minus '+' and '/' so they survive shells and URLs.
_SECRET_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class AccessKey:
    """An access key's public facts; the secret is never part of this value."""

    access_key_id: str
    principal: str
    description: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly created key and its secret, shown to the operator exactly once."""

    key: AccessKey
    secret: str


def _row(m: sa.RowMapping) -> AccessKey:
    return AccessKey(
        access_key_id=m["access_key_id"],
        principal=m["principal"],
        description=m["description"],
        created_at=m["created_at"],
        last_used_at=m["last_used_at"],
        revoked_at=m["revoked_at"],
    )


class KeyStore:
    """Create, list, revoke and look up access keys in the metadata database."""

    def __init__(
        self, engine: Engine, box: SecretBox, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.box = box
        self.clock = clock

    def create(self, principal: str = "admin", description: str = "") -> NewKey:
        """A new active key with a random 20-character ID and 40-character secret."""
        key_id = "AKIA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
        secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(t.access_keys).values(
                    access_key_id=key_id,
                    secret_ciphertext=self.box.seal(secret),
                    principal=principal,
                    description=description,
                    created_at=now,
                )
            )
        key = AccessKey(key_id, principal, description, now, None, None)
        return NewKey(key, secret)

    def list(self) -> list[AccessKey]:
        """Every key, active and revoked, oldest first."""
        with reading(self.engine) as conn:
            rows = conn.execute(
                sa.select(t.access_keys).order_by(
                    t.access_keys.c.created_at, t.access_keys.c.access_key_id
                )
            ).mappings()
            return [_row(m) for m in rows]

    def count(self) -> int:
        """How many keys were ever created (revoked ones included)."""
        with reading(self.engine) as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(t.access_keys)).scalar_one()
            )

    def revoke(self, access_key_id: str) -> AccessKey:
        """Mark the key revoked; signatures and registry tokens made with it stop working."""
        with self.engine.begin() as conn:
            done = conn.execute(
                sa.update(t.access_keys)
                .where(
                    t.access_keys.c.access_key_id == access_key_id,
                    t.access_keys.c.revoked_at.is_(None),
                )
                .values(revoked_at=self.clock())
            )
            if done.rowcount == 0:
                msg = f"no active access key {access_key_id!r}"
                raise NotFound(msg)
            row = (
                conn.execute(
                    sa.select(t.access_keys).where(t.access_keys.c.access_key_id == access_key_id)
                )
                .mappings()
                .one()
            )
        return _row(row)

    def sealed_with_this_key(self) -> bool:
        """Whether the stored secrets open with this data directory's master key (checked on
        the oldest key; true while there are none)."""
        with self.engine.connect() as conn:
            sealed = conn.execute(
                sa.select(t.access_keys.c.secret_ciphertext)
                .order_by(t.access_keys.c.created_at, t.access_keys.c.access_key_id)
                .limit(1)
            ).scalar()
        return sealed is None or self.box.opens(sealed)

    def active_secret(self, access_key_id: str) -> tuple[AccessKey, str] | None:
        """The key and its secret when the key exists and is not revoked, else None."""
        with reading(self.engine) as conn:
            row = (
                conn.execute(
                    sa.select(t.access_keys).where(t.access_keys.c.access_key_id == access_key_id)
                )
                .mappings()
                .first()
            )
        if row is None or row["revoked_at"] is not None:
            return None
        return _row(row), self.box.open(row["secret_ciphertext"])
