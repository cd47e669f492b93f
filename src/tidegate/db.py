"""Engine factory for SQLite (embedded default) and PostgreSQL, and schema migration."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tidegate.config import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    # WAL lets readers run beside the single writer; busy_timeout queues writers instead of
    # failing them; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # After a checkpoint resets the WAL, truncate it to this size rather than keep the
    # high-water mark of the largest transaction on disk.
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.close()


READ_ONLY = "tidegate_read_only"


def _sqlite_begin(conn: sa.Connection) -> None:
    # Writers take the lock up front with BEGIN IMMEDIATE, so two transactions never
    # deadlock upgrading a read lock. Readers need no BEGIN at all: in WAL mode every
    # statement reads a consistent snapshot and never blocks the writer.
    if not conn.get_execution_options().get(READ_ONLY, False):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, FULL sync, foreign keys and immediate transactions."""
    if url.startswith("sqlite"):
        # As many pooled connections as the server has threads to use them (anyio's 40): a
        # connection opened past the pool would be closed again after one use, and each
        # opening costs the pragmas below.
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=48, max_overflow=16
        )
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: object) -> None:
            dbapi_connection.isolation_level = None  # let SQLAlchemy events issue BEGIN

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # Connections for the server's 40 request threads: under 32 concurrent requests a
    # smaller pool opened and closed a connection (a PostgreSQL backend) per request past
    # it, which tripled the manifest GET p99 in bench/registry_load.py --postgres.
    return sa.create_engine(url, pool_size=32, max_overflow=8, pool_pre_ping=True)


def reading(engine: Engine) -> sa.Connection:
    """A connection for reads only (use as a context manager); never takes SQLite's lock.

    On PostgreSQL it runs in autocommit: each statement reads the latest committed state
    either way (READ COMMITTED), and a request's reads then cost no BEGIN and ROLLBACK
    round trips around them.
    """
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY: True})
    return conn.execution_options(**{READ_ONLY: True})


def engine_for(settings: Settings) -> Engine:
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return create_engine(settings.sqlalchemy_url)


def flag_for_commit(conn: sa.Connection, flag: str) -> None:
    """Mark the connection's transaction: its commit calls the `notify_on_commit` callbacks
    listening for `flag`."""
    conn.info[flag] = True


def notify_on_commit(engine: Engine, flag: str, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` when a transaction flagged with `flag` commits; returns an undo.

    SQLAlchemy fires `commit` just before the DBAPI commit. On SQLite the committing writer
    still holds the lock then, so a reader that begins a write waits for the commit and sees
    the rows; elsewhere the listener's own poll interval is the backstop.
    """

    def on_commit(conn: sa.Connection) -> None:
        if conn.info.pop(flag, False):
            callback()

    def on_rollback(conn: sa.Connection) -> None:
        # connection.info outlives the transaction (it belongs to the pooled connection).
        conn.info.pop(flag, None)

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)

    def undo() -> None:
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "rollback", on_rollback)

    return undo


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str | None:
    """The newest migration this code knows."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


def schema_revision(conn: sa.Connection) -> str | None:
    """The migration the database is at (None: never migrated)."""
    try:
        value = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except sa.exc.DBAPIError as exc:
        if "alembic_version" in str(exc):  # no such table: never migrated
            return None
        raise
    return None if value is None else str(value)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to call on every start."""
    command.upgrade(alembic_config(engine), "head")


def update_or_insert(
    conn: sa.Connection,
    table: sa.Table,
    key: Mapping[str, object],
    values: Mapping[str, object],
    *,
    on_insert: Mapping[str, object] | None = None,
) -> None:
    """Set `values` on the row whose columns equal `key`, or insert it (with `on_insert`).

    One `INSERT … ON CONFLICT (key) DO UPDATE` on both dialects, so concurrent writers of
    the same key never race (atomic on PostgreSQL); the key columns must carry a unique
    constraint.
    """
    insert = _dialect_insert(conn)(table).values(**key, **values, **(on_insert or {}))
    conn.execute(insert.on_conflict_do_update(index_elements=list(key), set_=dict(values)))


def _dialect_insert(conn: sa.Connection) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def insert_ignoring_conflicts(
    conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], key: str
) -> None:
    """Insert rows, skipping those whose unique `key` already exists (SQLite or PostgreSQL).

    For content-addressed rows: a conflict means another writer stored the same content.
    """
    if not rows:
        return
    conn.execute(_dialect_insert(conn)(table).on_conflict_do_nothing(index_elements=[key]), rows)


def _executemany(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    statement: Callable[[str], str],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Run `statement(marker)` once per row with the row's `columns` in order, through the
    driver's executemany (only for plain values: str, int, float, bytes, None)."""
    if not rows:
        return
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        msg = f"not columns of {table.name}: {', '.join(unknown)}"
        raise ValueError(msg)
    sql = statement("?" if conn.dialect.paramstyle == "qmark" else "%s")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, [tuple(row[c] for c in columns) for row in rows])
    finally:
        cursor.close()


def bulk_insert(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT many rows with the driver's executemany; every row has the keys of the first.

    Skips SQLAlchemy's per-row parameter processing, which costs more than SQLite's own
    insert for the tens of thousands of rows (findings, events, usage) one re-scan writes.
    """
    if not rows:
        return
    columns = list(rows[0])
    _executemany(
        conn,
        table,
        columns,
        lambda m: (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join([m] * len(columns))})"
        ),
        rows,
    )


def bulk_update(
    conn: sa.Connection,
    table: sa.Table,
    values: Sequence[str],
    keys: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """UPDATE table SET <values> WHERE <keys> for many rows (see `bulk_insert`)."""
    _executemany(
        conn,
        table,
        [*values, *keys],
        lambda m: (
            f"UPDATE {table.name} SET {', '.join(f'{c} = {m}' for c in values)} "
            f"WHERE {' AND '.join(f'{c} = {m}' for c in keys)}"
        ),
        rows,
    )


def rows_for_ids(conn: sa.Connection, sql: str, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """Run `sql` (with one `{}` for a comma-separated id list) over `ids` in chunks.

    For reads returning tens of thousands of rows: skips SQLAlchemy's per-row result
    processing and its expanding IN parameters. The ids are integers (from the database),
    written into the SQL as literals.
    """
    out: list[tuple[Any, ...]] = []
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(ids), 500):
            cursor.execute(sql.format(",".join(str(int(i)) for i in ids[start : start + 500])))
            out.extend(cursor.fetchall())
    finally:
        cursor.close()
    return out
