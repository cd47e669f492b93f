"""Continuous scanning ends after the configured duration (SCAN_ELIGIBILITY_EXPIRED)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tidegate import schema as t
from tidegate.db import create_engine, migrate
from tidegate.engine.scans import expire_images


def test_only_old_active_continuous_images_expire(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(t.repositories).values(id=1, name="r", created_at=0))
        for digest, pushed, frequency, status in (
            ("sha256:old", 100.0, "CONTINUOUS_SCAN", "ACTIVE"),
            ("sha256:new", 900.0, "CONTINUOUS_SCAN", "ACTIVE"),
            ("sha256:onpush", 100.0, "SCAN_ON_PUSH", "COMPLETE"),
        ):
            conn.execute(sa.insert(t.manifests).values(
                repository_id=1, digest=digest, media_type="m", size=1, image_size=1,
                pushed_at=pushed))  # fmt: skip
            conn.execute(sa.insert(t.image_scans).values(
                repository_id=1, digest=digest, scan_type="ENHANCED", status=status,
                description="", requested_at=pushed, frequency=frequency))  # fmt: skip
        assert expire_images(conn, pushed_before=500.0) == 1
        rows = dict(conn.execute(sa.select(t.image_scans.c.digest, t.image_scans.c.status)).all())
    assert rows == {
        "sha256:old": "SCAN_ELIGIBILITY_EXPIRED",
        "sha256:new": "ACTIVE",
        "sha256:onpush": "COMPLETE",
    }
    engine.dispose()
