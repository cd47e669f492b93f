"""Retention: closed findings expire (3 days for deleted images, 30 otherwise) and scan data
that no image references any more is removed, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.engine.retention import DAY, PurgeReport, purge

NOW = 1_000 * DAY


def _finding(
    key: str, digest: str, status: str, age_days: float, details: str
) -> dict[str, object]:
    at = NOW - age_days * DAY
    return {
        "repository_id": 1, "digest": digest, "scan_type": "ENHANCED", "finding_key": key,
        "vuln_id": f"CVE-2024-{key}", "package_name": "openssl", "package_version": "3.0.11-1",
        "package_manager": "OS", "namespace": "Debian:12", "match_name": "openssl",
        "severity": "HIGH", "fix_available": "YES", "exploit_available": "NO", "status": status,
        "details_id": details, "first_observed_at": at, "last_observed_at": at, "updated_at": at,
    }  # fmt: skip


def _populate(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(t.repositories).values(id=1, name="app", created_at=0))
        conn.execute(sa.insert(t.manifests).values(
            repository_id=1, digest="sha256:live", media_type="m", size=1, image_size=1,
            pushed_at=0))  # fmt: skip
        for digest in ("sha256:live", "sha256:gone"):
            conn.execute(sa.insert(t.image_scans).values(
                repository_id=1, digest=digest, scan_type="ENHANCED", status="ACTIVE",
                description="", requested_at=0, frequency="CONTINUOUS_SCAN"))  # fmt: skip
            conn.execute(sa.insert(t.image_inventories).values(
                digest=digest, inventory=b"{}", analyzer_key="k", analyzed_at=0))  # fmt: skip
        conn.execute(sa.insert(t.indexed_packages), [
            {"id": 1, "namespace": "Debian:12", "name": "openssl", "package_hash": "h1",
             "package": "{}"},
            {"id": 2, "namespace": "Debian:12", "name": "zlib", "package_hash": "h2",
             "package": "{}"},
        ])  # fmt: skip
        conn.execute(sa.insert(t.inventory_packages), [
            {"package_id": 1, "digest": "sha256:live"},
            {"package_id": 1, "digest": "sha256:gone"},
            {"package_id": 2, "digest": "sha256:gone"},
        ])  # fmt: skip
        conn.execute(sa.insert(t.finding_details), [
            {"id": d, "details": "{}", "shape": None} for d in ("live", "old", "gone", "orphan")
        ])  # fmt: skip
        conn.execute(sa.insert(t.findings), [
            _finding("1", "sha256:live", "ACTIVE", 40, "live"),
            _finding("2", "sha256:live", "CLOSED", 31, "old"),  # closed > 30 days: goes
            _finding("3", "sha256:live", "CLOSED", 5, "live"),
            _finding("4", "sha256:gone", "ACTIVE", 10, "live"),  # image gone: closes now
            _finding("5", "sha256:gone", "CLOSED", 4, "gone"),  # image gone > 3 days: goes
            _finding("6", "sha256:gone", "CLOSED", 2, "live"),
        ])  # fmt: skip


def _state(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        f = t.findings
        return {
            "findings": {str(k): str(v) for k, v in conn.execute(
                sa.select(f.c.finding_key, f.c.status))},
            "scans": sorted(conn.execute(sa.select(t.image_scans.c.digest)).scalars()),
            "inventories": sorted(conn.execute(sa.select(t.image_inventories.c.digest)).scalars()),
            "links": sorted((int(p), str(d)) for p, d in conn.execute(sa.select(
                t.inventory_packages.c.package_id, t.inventory_packages.c.digest))),
            "packages": sorted(conn.execute(sa.select(t.indexed_packages.c.id)).scalars()),
            "texts": sorted(conn.execute(sa.select(t.finding_details.c.id)).scalars()),
        }  # fmt: skip


def test_retention_rules_and_orphans(engine: Engine) -> None:
    _populate(engine)
    before = _state(engine)
    expected = PurgeReport(
        findings_closed=1, findings_removed=2, scans_removed=1, inventories_removed=1,
        indexed_packages_removed=1, finding_texts_removed=3,
    )  # fmt: skip
    assert purge(engine, NOW, dry_run=True) == expected
    assert _state(engine) == before

    assert purge(engine, NOW) == expected
    assert _state(engine) == {
        "findings": {"1": "ACTIVE", "3": "CLOSED", "4": "CLOSED", "6": "CLOSED"},
        "scans": ["sha256:live"],
        "inventories": ["sha256:live"],
        "links": [(1, "sha256:live")],
        "packages": [1],
        "texts": ["live"],
    }
    assert purge(engine, NOW) == PurgeReport()
    # The finding closed by the first purge goes three days later.
    assert purge(engine, NOW + 3.5 * DAY).findings_removed == 2  # "4", and "6" (5.5 days)
