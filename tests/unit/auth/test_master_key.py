"""A process whose master.key differs from the one the database's secrets were sealed with
refuses to start, naming the file, instead of answering 500 to every signed request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidegate.auth.service import AuthService
from tidegate.db import create_engine, migrate
from tidegate.errors import StorageError


def test_a_foreign_master_key_is_refused_at_start(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    AuthService(engine, tmp_path / "first")  # no keys yet: any master key will do
    AuthService(engine, tmp_path / "first").keys.create()
    AuthService(engine, tmp_path / "first")  # the same key opens them
    (tmp_path / "second").mkdir()
    (tmp_path / "second" / "master.key").write_bytes(
        (tmp_path / "first" / "master.key").read_bytes()
    )
    AuthService(engine, tmp_path / "second")  # a copied key is the same key
    with pytest.raises(StorageError) as info:
        AuthService(engine, tmp_path / "third")
    assert str(tmp_path / "third" / "master.key") in str(info.value)
    assert "every process sharing one database must have the same master.key" in str(info.value)
    engine.dispose()
