"""A vulnerability DB update in one process reaches every process sharing PostgreSQL.

Two DB directories stand for two processes' data directories; only the database joins
them. Versions are real `manager.update` builds from a small hand-written GHSA mirror.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.support.scan_fixtures import advisory, mirror
from tidegate import schema as t
from tidegate.db import create_engine, migrate
from tidegate.engine import vulndb_share
from tidegate.scanner.vulndb import layout, manager
from tidegate.scanner.vulndb.layout import UpdateInProgress
from tidegate.scanner.vulndb.store import VulnStore
from tidegate.singletons import Singleton, hold

pytestmark = pytest.mark.postgres

LODASH = advisory("GHSA-aaaa-bbbb-cccc", "CVE-2020-8203", "lodash", "4.17.19")
MINIMIST = advisory("GHSA-dddd-eeee-ffff", "CVE-2021-44906", "minimist", "1.2.6")


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _update(pg: Engine, root: Path, source: Path) -> manager.UpdateResult:
    return vulndb_share.run_update(
        pg, root, lambda: manager.update(root, mirror=str(source), only=["ghsa-npm"], workers=1)
    )


def test_a_version_built_in_one_directory_reaches_the_other(pg: Engine, tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "vulndb", tmp_path / "b" / "vulndb"
    first = _update(pg, a, mirror(tmp_path / "m1", [LODASH]))
    assert first.published
    assert vulndb_share.latest(pg) == first.version
    assert vulndb_share.sync(pg, b) == first.version
    store = VulnStore(b)
    assert store.version == first.version
    assert [a.id for a in store.lookup("npm", "lodash")] == ["CVE-2020-8203"]

    # The next update runs in B, which is current, so its version follows A's.
    second = _update(pg, b, mirror(tmp_path / "m2", [LODASH, MINIMIST]))
    assert second.version == first.version + 1
    assert store.reopen()
    assert ("npm", "minimist") in store.changes(first.version)
    store.close()
    assert vulndb_share.sync(pg, a) == second.version
    assert layout.current_version(a) == second.version
    assert VulnStore(a).changes(first.version) == {("npm", "minimist")}


def test_an_update_is_refused_while_another_process_updates(pg: Engine, tmp_path: Path) -> None:
    with hold(pg, Singleton.VULNDB_UPDATE) as held:
        assert held
        with pytest.raises(UpdateInProgress):
            _update(pg, tmp_path / "vulndb", mirror(tmp_path / "m", [LODASH]))
    assert vulndb_share.latest(pg) is None


def test_a_corrupt_shared_version_is_never_published(pg: Engine, tmp_path: Path) -> None:
    first = _update(pg, tmp_path / "a", mirror(tmp_path / "m1", [LODASH]))
    with pg.begin() as conn:
        conn.execute(sa.update(t.vulndb_chunks).values(data=sa.func.decode("00", "hex")))
    other = tmp_path / "b"
    with pytest.raises(ValueError, match="sha256"):
        vulndb_share.sync(pg, other)
    assert layout.current_version(other) is None
    assert list(other.glob("build-*")) == []
    assert first.published


def test_sqlite_shares_nothing(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    root = tmp_path / "vulndb"
    result = _update(engine, root, mirror(tmp_path / "m", [LODASH]))
    assert result.published
    assert vulndb_share.latest(engine) is None
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.vulndb_versions)).scalar() == 0
    engine.dispose()
