"""0006 on a database with keys from before users: each key's principal keeps full access."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from tidegate import schema
from tidegate.auth.policy import Decision, Request, evaluate
from tidegate.auth.users import UserStore
from tidegate.db import alembic_config, create_engine, migrate


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def at_0005(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'meta.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    eng = create_engine(url)
    command.upgrade(alembic_config(eng), "0005")
    yield eng
    eng.dispose()


def test_existing_principals_become_admin_users(at_0005: Engine) -> None:
    with at_0005.begin() as conn:
        for key_id, principal in (("AKIA1", "admin"), ("AKIA2", "admin"), ("AKIA3", "ci")):
            conn.execute(
                sa.insert(schema.access_keys).values(
                    access_key_id=key_id, secret_ciphertext=b"x", principal=principal,
                    description="", created_at=0,
                )
            )  # fmt: skip
    migrate(at_0005)
    users = UserStore(at_0005)
    assert [u.name for u in users.list()] == ["admin", "ci"]
    for name in ("admin", "ci"):
        assert [p.name for p in users.get(name).policies] == ["AdministratorAccess"]
        request = Request(f"arn:aws:iam::000000000000:user/{name}", "ecr:DeleteRepository", "*")
        assert evaluate(request, users.identity_policies(name)) is Decision.ALLOW
    command.downgrade(alembic_config(at_0005), "0005")
    assert "iam_users" not in sa.inspect(at_0005).get_table_names()
