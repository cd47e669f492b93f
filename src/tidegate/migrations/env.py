"""Alembic environment: runs revisions on the engine handed over by `tidegate.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Engine

from tidegate.schema import metadata


def run() -> None:
    engine = context.config.attributes.get("engine")
    if not isinstance(engine, Engine):
        msg = "tidegate migrations run through tidegate.db.migrate()"
        raise RuntimeError(msg)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run()
