"""WAL checkpoints leave the committing connection for the background checkpointer."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tidegate.checkpoints import WalCheckpointer
from tidegate.db import create_engine

ROWS = [{"id": i, "pad": "x" * 2000} for i in range(3000)]  # ~1,500 pages: past the default


def _table(engine: sa.Engine) -> sa.Table:
    meta = sa.MetaData()
    table = sa.Table(
        "t", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("pad", sa.Text)
    )
    meta.create_all(engine)
    return table


def test_commits_do_not_checkpoint_while_the_checkpointer_runs(tmp_path: Path) -> None:
    db = tmp_path / "meta.db"
    engine = create_engine(f"sqlite:///{db}")
    table = _table(engine)
    checkpointer = WalCheckpointer(engine, interval=3600)  # only explicit checkpoints here
    checkpointer.start()
    try:
        before = db.stat().st_size
        with engine.begin() as conn:
            conn.execute(sa.insert(table), ROWS)
        assert db.stat().st_size == before  # every page is still only in the WAL
        result = checkpointer.checkpoint()
        assert result is not None
        busy, frames, done = result
        assert busy == 0
        assert frames > 1000
        assert done == frames
        assert db.stat().st_size > before + 3000 * 2000
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 3000
    finally:
        checkpointer.stop()
        engine.dispose()


def test_without_it_sqlite_checkpoints_in_the_commit(tmp_path: Path) -> None:
    db = tmp_path / "meta.db"
    engine = create_engine(f"sqlite:///{db}")
    table = _table(engine)
    before = db.stat().st_size
    with engine.begin() as conn:
        conn.execute(sa.insert(table), ROWS)
    assert db.stat().st_size > before + 3000 * 2000
    engine.dispose()


def test_postgresql_engines_are_left_alone() -> None:
    engine = create_engine("postgresql://postgres@127.0.0.1:5432/test")
    checkpointer = WalCheckpointer(engine)
    checkpointer.start()
    assert checkpointer.path is None
    assert checkpointer.checkpoint() is None
    checkpointer.stop()
    engine.dispose()
