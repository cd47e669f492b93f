"""Throwaway PostgreSQL databases on the local server (127.0.0.1:5432, trust auth)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

from tidegate.db import create_engine

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """Create an empty database, yield its URL, drop it. Fails if PostgreSQL is down."""
    name = f"tidegate_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
