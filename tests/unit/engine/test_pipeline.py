"""One scan job over fakes of its narrow inputs: what it records, and that its final writes
wait for the runtime's transaction (the job's one way out)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.support import engine_fakes as fx
from tidegate import schema as t
from tidegate.engine import pipeline
from tidegate.engine.context import nothing_to_write
from tidegate.oci import mediatypes
from tidegate.registry.storage.filesystem import FilesystemBlobStore
from tidegate.scanner.model import Inventory
from tidegate.states import ScanType

VULN = fx.advisory("GHSA-aaaa-bbbb-0001", "lodash", "4.17.21")


def _setup(tmp_path: Path, **kw: str) -> tuple[sa.Engine, FilesystemBlobStore, str]:
    db = fx.metadata_db(tmp_path)
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    return db, blobs, fx.push_image(db, blobs, **kw)


def test_an_enhanced_scan_writes_its_results_only_in_the_runtimes_transaction(
    tmp_path: Path,
) -> None:
    db, blobs, digest = _setup(tmp_path)
    job = fx.request(db, digest, ScanType.ENHANCED, "CONTINUOUS_SCAN")
    analyzer = fx.FakeAnalyzer(Inventory(None, (fx.LODASH,)))
    ctx = fx.context(db, blobs, analyzer, [fx.FakeVulnDb(7, [VULN])])

    outcome = pipeline.run_scan(ctx, job)
    assert fx.scan_row(db, digest)["status"] == "IN_PROGRESS"
    assert fx.finding_ids(db, digest) == []
    with db.begin() as conn:
        outcome(conn)

    row = fx.scan_row(db, digest)
    assert (row["status"], row["vulndb_version"]) == ("ACTIVE", 7)
    assert row["vulndb_updated_at"] == 1714521600.0
    assert fx.finding_ids(db, digest) == [("CVE-2024-0001", "ACTIVE")]
    assert fx.event_types(db) == ["Inspector2 Scan", "Inspector2 Finding"]
    assert analyzer.calls == 1


def test_a_stored_inventory_is_recalled_not_analysed_again(tmp_path: Path) -> None:
    db, blobs, digest = _setup(tmp_path)
    analyzer = fx.FakeAnalyzer(Inventory(None, (fx.LODASH,)))
    ctx = fx.context(db, blobs, analyzer, [fx.FakeVulnDb(7, [VULN])])
    for _ in range(2):
        outcome = pipeline.run_scan(ctx, fx.request(db, digest, ScanType.ENHANCED, "SCAN_ON_PUSH"))
        with db.begin() as conn:
            outcome(conn)
    assert analyzer.calls == 1
    assert fx.finding_ids(db, digest) == [("CVE-2024-0001", "ACTIVE")]


def test_an_image_index_is_unsupported_without_analysis(tmp_path: Path) -> None:
    db, blobs, digest = _setup(tmp_path, media_type=mediatypes.OCI_INDEX)
    job = fx.request(db, digest, ScanType.BASIC, "SCAN_ON_PUSH")
    analyzer = fx.FakeAnalyzer(Inventory(None, ()))
    outcome = pipeline.run_scan(fx.context(db, blobs, analyzer, [fx.FakeVulnDb(1)]), job)
    with db.begin() as conn:
        outcome(conn)
    row = fx.scan_row(db, digest)
    assert row["status"] == "UNSUPPORTED_IMAGE"
    assert "image index" in row["description"]
    assert analyzer.calls == 0


def test_no_usable_database_fails_the_scan_and_tells_a_basic_scans_subscribers(
    tmp_path: Path,
) -> None:
    db, blobs, digest = _setup(tmp_path)
    job = fx.request(db, digest, ScanType.BASIC, "SCAN_ON_PUSH")
    analyzer = fx.FakeAnalyzer(Inventory(None, (fx.LODASH,)))
    ctx = fx.context(db, blobs, analyzer, [], current=lambda: None)
    outcome = pipeline.run_scan(ctx, job)
    with db.begin() as conn:
        outcome(conn)
    row = fx.scan_row(db, digest)
    assert row["status"] == "FAILED"
    assert "tidegate db update" in row["description"]
    assert fx.event_types(db) == ["ECR Image Scan"]


def test_an_image_deleted_before_the_job_ran_leaves_nothing_to_write(tmp_path: Path) -> None:
    db, blobs, digest = _setup(tmp_path)
    job = fx.request(db, digest, ScanType.ENHANCED, "SCAN_ON_PUSH")
    with db.begin() as conn:
        conn.execute(sa.delete(t.manifests))
    ctx = fx.context(db, blobs, fx.FakeAnalyzer(Inventory(None, ())), [fx.FakeVulnDb(1)])
    assert pipeline.run_scan(ctx, job) is nothing_to_write


def test_an_image_deleted_during_analysis_gets_no_findings(tmp_path: Path) -> None:
    db, blobs, digest = _setup(tmp_path)
    job = fx.request(db, digest, ScanType.ENHANCED, "SCAN_ON_PUSH")
    ctx = fx.context(
        db, blobs, fx.FakeAnalyzer(Inventory(None, (fx.LODASH,))), [fx.FakeVulnDb(7, [VULN])]
    )
    outcome = pipeline.run_scan(ctx, job)
    with db.begin() as conn:
        conn.execute(sa.delete(t.manifests))
        outcome(conn)
    assert fx.finding_ids(db, digest) == []
    assert fx.event_types(db) == []
