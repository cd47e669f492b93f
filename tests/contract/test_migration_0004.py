"""0004 moves a populated 0003 database: the re-scan index and finding texts survive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from tidegate import schema
from tidegate.db import alembic_config, create_engine, migrate
from tidegate.events.outbox import unpack

PACKAGE = '{"package": {"name": "openssl"}, "version": "3.0.11-1"}'
DETAILS = '{"description": "heap overflow"}'
BODY = '{"version":"0","id":"e-1","detail":{"note":"caf\u00e9 \u00e9v\u00e9nement"}}'


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def at_0003(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'meta.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    eng = create_engine(url)
    command.upgrade(alembic_config(eng), "0003")
    yield eng
    eng.dispose()


def _populate(conn: sa.Connection) -> None:
    conn.execute(sa.insert(schema.repositories).values(id=1, name="a/b", created_at=0))
    for digest in ("sha256:1", "sha256:2"):
        conn.execute(
            sa.text(
                "INSERT INTO inventory_packages (namespace, name, digest, package) "
                "VALUES ('Debian:12', 'openssl', :d, :p)"
            ),
            {"d": digest, "p": PACKAGE},
        )
        conn.execute(
            sa.text(
                "INSERT INTO findings (repository_id, digest, scan_type, finding_key, vuln_id,"
                " package_name, package_version, package_manager, namespace, match_name,"
                " file_path, layer, severity, score, fixed_in, fix_available,"
                " exploit_available, status, details, first_observed_at, last_observed_at,"
                " updated_at) VALUES (1, :d, 'ENHANCED', 'k', 'CVE-1', 'openssl', '3.0.11-1',"
                " 'OS', 'Debian:12', 'openssl', '', '', 'HIGH', 7.5, '', 'NO', 'NO', 'ACTIVE',"
                " :details, 0, 0, 0)"
            ),
            {"d": digest, "details": DETAILS},
        )
    conn.execute(
        sa.text(
            "INSERT INTO events_outbox (event_id, detail_type, body, created_at)"
            " VALUES ('e-1', 'ECR Image Action', :b, 0)"
        ),
        {"b": BODY},
    )


def test_upgrade_keeps_index_and_finding_texts(at_0003: Engine) -> None:
    with at_0003.begin() as conn:
        _populate(conn)
    migrate(at_0003)
    with at_0003.connect() as conn:
        stored = conn.execute(sa.select(schema.events_outbox.c.body_zstd)).scalar_one()
        assert unpack(stored) == BODY
        packages = conn.execute(
            sa.text("SELECT id, namespace, name, package FROM indexed_packages")
        ).all()
        assert [(p.namespace, p.name, p.package) for p in packages] == [
            ("Debian:12", "openssl", PACKAGE)
        ]
        pairs = conn.execute(
            sa.text("SELECT package_id, digest FROM inventory_packages ORDER BY digest")
        ).all()
        assert [tuple(p) for p in pairs] == [
            (packages[0].id, "sha256:1"),
            (packages[0].id, "sha256:2"),
        ]
        texts = conn.execute(
            sa.text(
                "SELECT f.digest, d.details, d.shape FROM findings f"
                " JOIN finding_details d ON d.id = f.details_id ORDER BY f.digest"
            )
        ).all()
        assert [tuple(r) for r in texts] == [
            ("sha256:1", DETAILS, None),
            ("sha256:2", DETAILS, None),
        ]
        assert conn.execute(sa.text("SELECT count(*) FROM finding_details")).scalar() == 1


def test_downgrade_restores_0003_and_upgrades_again(at_0003: Engine) -> None:
    with at_0003.begin() as conn:
        _populate(conn)
    migrate(at_0003)
    command.downgrade(alembic_config(at_0003), "0003")
    with at_0003.connect() as conn:
        assert conn.execute(sa.text("SELECT body FROM events_outbox")).scalar_one() == BODY
        details = conn.execute(sa.text("SELECT details FROM findings")).scalars().all()
        assert details == [DETAILS, DETAILS]
        packages = conn.execute(
            sa.text("SELECT digest, package FROM inventory_packages ORDER BY digest")
        ).all()
        assert [tuple(p) for p in packages] == [("sha256:1", PACKAGE), ("sha256:2", PACKAGE)]
    migrate(at_0003)
