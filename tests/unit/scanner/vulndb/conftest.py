"""Fixtures for the vulnerability DB tests: the real-data mini mirror, a built DB, HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.scanner.vulndb.httpserver import MirrorServer
from tests.unit.scanner.vulndb.mirror import CACHE, build_mini_mirror
from tidegate.scanner.vulndb.manager import update


@pytest.fixture(scope="session")
def mini_mirror() -> Path:
    """Read-only mini mirror built from the real snapshot (cached across sessions)."""
    return build_mini_mirror()


@pytest.fixture(scope="session")
def built_db(mini_mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vulndb directory with one version built from the mini mirror; do not modify."""
    root = tmp_path_factory.mktemp("built") / "vulndb"
    result = update(root, mirror=str(mini_mirror))
    assert result.published
    assert all(s.status == "updated" for s in result.sources), result.sources
    return root


@pytest.fixture
def db_copy(built_db: Path, tmp_path: Path) -> Path:
    """A private copy of `built_db` a test may update."""
    dest = tmp_path / "vulndb"
    shutil.copytree(built_db, dest)
    return dest


@pytest.fixture
def served_mirror(mini_mirror: Path) -> Iterator[MirrorServer]:
    """The mini mirror over HTTP on 127.0.0.1 with ETag and Last-Modified."""
    server = MirrorServer(mini_mirror)
    try:
        yield server
    finally:
        server.close()


def cache_dir() -> Path:
    """Where session-spanning fixtures live."""
    return CACHE
