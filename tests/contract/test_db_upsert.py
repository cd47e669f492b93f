"""`update_or_insert` is one atomic statement: racing writers of one key never collide."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.db import update_or_insert


def test_insert_then_update(engine: Engine) -> None:
    s = t.registry_settings
    with engine.begin() as conn:
        update_or_insert(conn, s, {"name": "k"}, {"value": "1", "updated_at": 1.0})
        update_or_insert(conn, s, {"name": "k"}, {"value": "2", "updated_at": 2.0})
    with engine.connect() as conn:
        assert conn.execute(sa.select(s.c.value, s.c.updated_at)).all() == [("2", 2.0)]


def test_on_insert_values_are_kept_on_update(engine: Engine) -> None:
    b = t.blobs
    digest = "sha256:" + "a" * 64
    with engine.begin() as conn:
        update_or_insert(
            conn, b, {"digest": digest}, {"last_used_at": 1.0},
            on_insert={"size": 5, "created_at": 1.0},
        )  # fmt: skip
        update_or_insert(
            conn, b, {"digest": digest}, {"last_used_at": 9.0},
            on_insert={"size": 7, "created_at": 9.0},
        )  # fmt: skip
    with engine.connect() as conn:
        row = conn.execute(sa.select(b.c.size, b.c.created_at, b.c.last_used_at)).one()
    assert tuple(row) == (5, 1.0, 9.0)


def test_concurrent_writers_of_one_key_never_fail(engine: Engine) -> None:
    s = t.registry_settings
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(20):
                with engine.begin() as conn:
                    update_or_insert(
                        conn, s, {"name": "race"}, {"value": f"{n}-{i}", "updated_at": float(i)}
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(s)).scalar_one() == 1
