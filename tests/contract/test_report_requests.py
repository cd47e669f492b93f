"""Report requests on SQLite and PostgreSQL: stored with their job, cancelled for good,
ended once, and ended FAILED when their job runs out of attempts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from tidegate.config import Settings
from tidegate.engine import reports
from tidegate.engine.jobs import JobQueue
from tidegate.events.model import Origin
from tidegate.inspector.reports import ReportJobs
from tidegate.states import JobKind, ReportStatus

KMS = "arn:aws:kms:us-east-1:123456789012:key/k"
DEST = {"bucketName": "reports", "kmsKeyArn": KMS}


def _create(engine: Engine, kind: str = "findings") -> str:
    return reports.create(engine, kind=kind, report_format="CSV", destination=DEST,
                          criteria={}, now=1.0)  # fmt: skip


def test_a_request_commits_with_its_job(engine: Engine) -> None:
    report_id = _create(engine)
    report = reports.get(engine, report_id, "findings")
    assert report is not None
    assert (report.status, report.destination, report.criteria) == ("IN_PROGRESS", DEST, {})
    assert reports.get(engine, report_id, "sbom") is None
    job = JobQueue(engine).claim("w", 60)
    assert job is not None
    assert job.kind is JobKind.REPORT
    assert job.payload == {"report_id": report_id, "report_kind": "findings"}
    latest = reports.latest(engine, "findings")
    assert latest is not None
    assert latest.id == report_id


def test_cancel_wins_over_a_late_finish(engine: Engine) -> None:
    report_id = _create(engine)
    assert reports.cancel(engine, report_id, 2.0)
    assert not reports.cancel(engine, report_id, 3.0)
    with engine.begin() as conn:
        assert not reports.finish(conn, report_id, ReportStatus.SUCCEEDED, 4.0)
    report = reports.get(engine, report_id, "findings")
    assert report is not None
    assert report.status == "CANCELLED"
    assert not reports.is_open(engine, report_id)


def test_jobs_end_their_request(engine: Engine, tmp_path: Path) -> None:
    runner = ReportJobs(Settings(data_dir=tmp_path), engine, Origin("123456789012", "us-east-1"))
    queue = JobQueue(engine)
    empty = _create(engine)
    job = queue.claim("w", 60)
    assert job is not None
    outcome = runner.run(job)
    with engine.begin() as conn:
        outcome(conn)
        queue.complete(job, conn)
    report = reports.get(engine, empty, "findings")
    assert report is not None
    assert (report.status, report.error_code) == ("FAILED", "NO_FINDINGS_FOUND")

    stuck = _create(engine, "sbom")
    job = queue.claim("w", 60)
    assert job is not None
    with engine.begin() as conn:
        runner.give_up(conn, job, "its worker died during each of 5 attempts")
    report = reports.get(engine, stuck, "sbom")
    assert report is not None
    assert (report.status, report.error_code) == ("FAILED", "INTERNAL_ERROR")
    assert report.error_message == "its worker died during each of 5 attempts"
