"""Work that one process at a time may do, held through PostgreSQL advisory locks.

    with singletons.hold(engine, Singleton.GC) as held:
        if held:
            collect_garbage(...)     # every other process is refused until the block ends

Session-level locks (`pg_try_advisory_lock`) on a connection of their own, taken for the
run and released after it: these runs span many transactions (GC deletes blob by blob,
outbox delivery commits between HTTP sends), which a transaction-level lock could not
cover, and the lock must not keep a transaction open for minutes. PostgreSQL drops a
session's locks when its connection ends, so a holder killed with SIGKILL frees the work
as soon as the server notices the closed socket.

On SQLite there is one host and, today, one process doing this work (the vulnerability DB
update has its own flock on the DB directory), so `hold` always grants.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# First key of the two-key form, so these locks never meet another application's
# single-key advisory locks in a shared database ("tide" in ASCII).
NAMESPACE = 0x74696465


class Singleton(enum.IntEnum):
    """Each kind of work held by one process at a time; values are the lock's second key.

    Values are part of the protocol between processes of different versions: never reuse
    or renumber one.
    """

    VULNDB_UPDATE = 1
    GC = 2
    RETENTION = 3
    LIFECYCLE = 4
    OUTBOX = 5
    RESCAN_SCHEDULER = 6


def is_shared(engine: Engine) -> bool:
    """True when other processes, possibly on other hosts, share this metadata DB."""
    return engine.dialect.name == "postgresql"


@contextlib.contextmanager
def hold(engine: Engine, work: Singleton) -> Iterator[bool]:
    """Try to take `work` for this block: yields True when held, False when another has it."""
    if not is_shared(engine):
        yield True
        return
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        held = bool(
            conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:ns, :key)"),
                {"ns": NAMESPACE, "key": int(work)},
            ).scalar()
        )
    except BaseException:
        conn.invalidate()
        conn.close()
        raise
    try:
        yield held
    finally:
        if held:
            _release(conn, work)
        conn.close()


def _release(conn: sa.Connection, work: Singleton) -> None:
    try:
        conn.execute(
            sa.text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": NAMESPACE, "key": int(work)}
        )
    except Exception:
        # A pooled session must never go back still holding the lock: dropping the
        # connection ends the session, and PostgreSQL releases the lock with it.
        log.warning("releasing the %s lock failed; dropping its connection", work.name.lower())
        conn.invalidate()
