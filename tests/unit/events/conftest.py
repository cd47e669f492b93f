"""Fixtures for event tests: a migrated SQLite metadata DB, a settable clock, an origin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.unit.events.helpers import Clock
from tidegate.db import create_engine, migrate
from tidegate.events.model import Origin


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def origin(clock: Clock) -> Origin:
    return Origin("123456789012", "us-east-1", clock=clock)
