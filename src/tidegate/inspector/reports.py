"""CreateFindingsReport, GetFindingsReportStatus, CancelFindingsReport, CreateSbomExport,
GetSbomExport and CancelSbomExport: requests checked here, stored and queued by
`engine.reports`, and written by `ReportJobs` on whichever process claims the job."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tidegate.config import Settings
from tidegate.engine import finding_criteria
from tidegate.engine import reports as store
from tidegate.engine.context import JobHandler, JobOutcome, nothing_to_write
from tidegate.engine.jobs import Job
from tidegate.engine.reports import Report
from tidegate.events.model import Origin
from tidegate.inspector import findings, sbom_export
from tidegate.inspector.destination import (
    Destination,
    DestinationError,
    check_destination,
    destination_for,
)
from tidegate.inspector.errors import InspectorError
from tidegate.inspector.report_formats import EXTENSIONS, RENDERERS
from tidegate.states import FindingStatus, ReportStatus

log = logging.getLogger(__name__)

FINDINGS, SBOM = "findings", "sbom"
PAGE = 500  # findings rendered (and a cancel checked for) per step


def report_criteria(criteria: Mapping[str, Any]) -> dict[str, Any]:
    """The filter a report applies: the request's, ACTIVE findings only unless it names a
    findingStatus (as Inspector's CreateFindingsReport does)."""
    out = dict(criteria)
    if not out.get("findingStatus"):
        out["findingStatus"] = [{"comparison": "EQUALS", "value": FindingStatus.ACTIVE}]
    return out


def _not_found(kind: str, report_id: str) -> InspectorError:
    noun = "findings report" if kind == FINDINGS else "SBOM export"
    return InspectorError("ResourceNotFoundException", f"no {noun} with id {report_id}")


def _existing(db: Engine, kind: str, report_id: str | None) -> Report:
    report = store.get(db, report_id, kind) if report_id else store.latest(db, kind)
    if report is None:
        raise _not_found(kind, report_id or "(none was ever created)")
    return report


def _errors(report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if report.error_code:
        out["errorCode"] = report.error_code
    if report.error_message:
        out["errorMessage"] = report.error_message
    return out


class ReportOperations:
    """The Inspector operations on reports, over the metadata DB of `db`."""

    def __init__(self, settings: Settings, db: Engine, origin: Origin) -> None:
        self.settings = settings
        self.db = db
        self.origin = origin

    def create_findings_report(self, p: dict[str, Any]) -> dict[str, Any]:
        criteria = p.get("filterCriteria") or {}
        check_destination(p["s3Destination"], self.origin.account)
        finding_criteria.where(report_criteria(criteria), self.origin)  # refuses bad filters now
        report_id = store.create(
            self.db, kind=FINDINGS, report_format=p["reportFormat"],
            destination=p["s3Destination"], criteria=criteria, now=time.time(),
        )  # fmt: skip
        return {"reportId": report_id}

    def get_findings_report_status(self, p: dict[str, Any]) -> dict[str, Any]:
        report = _existing(self.db, FINDINGS, p.get("reportId"))
        return {"reportId": report.id, "status": report.status, **_errors(report),
                "destination": report.destination, "filterCriteria": report.criteria}  # fmt: skip

    def cancel_findings_report(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._cancel(FINDINGS, p["reportId"])

    def create_sbom_export(self, p: dict[str, Any]) -> dict[str, Any]:
        criteria = p.get("resourceFilterCriteria") or {}
        check_destination(p["s3Destination"], self.origin.account)
        sbom_export.check_criteria(criteria)
        report_id = store.create(
            self.db, kind=SBOM, report_format=p["reportFormat"],
            destination=p["s3Destination"], criteria=criteria, now=time.time(),
        )  # fmt: skip
        return {"reportId": report_id}

    def get_sbom_export(self, p: dict[str, Any]) -> dict[str, Any]:
        report = _existing(self.db, SBOM, p["reportId"])
        return {"reportId": report.id, "format": report.format, "status": report.status,
                **_errors(report), "s3Destination": report.destination,
                "filterCriteria": report.criteria}  # fmt: skip

    def cancel_sbom_export(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._cancel(SBOM, p["reportId"])

    def _cancel(self, kind: str, report_id: str) -> dict[str, Any]:
        report = _existing(self.db, kind, report_id)
        if not store.cancel(self.db, report.id, time.time()):
            current = _existing(self.db, kind, report_id).status
            raise InspectorError(
                "ValidationException", f"report {report_id} has already ended ({current})"
            )
        return {"reportId": report.id}


class _Cancelled(Exception):
    pass


class _NothingToReport(Exception):
    pass


class ReportJobs:
    """Runs `report` jobs: reads what the request selects, writes it, ends the request."""

    def __init__(self, settings: Settings, db: Engine, origin: Origin) -> None:
        self.settings = settings
        self.db = db
        self.origin = origin
        self.clock: Callable[[], float] = time.time

    def kind(self) -> JobHandler:
        return JobHandler(run=self.run, give_up=self.give_up)

    def run(self, job: Job) -> JobOutcome:
        report_id = str(job.payload.get("report_id", ""))
        report = store.get(self.db, report_id, str(job.payload.get("report_kind", "")))
        if report is None or report.status != ReportStatus.IN_PROGRESS:
            return nothing_to_write  # cancelled before it started, or already ended
        try:
            dest = destination_for(self.settings, report.destination)
            write = self._findings if report.kind == FINDINGS else self._sboms
            written = write(report, dest)
        except _Cancelled:
            return nothing_to_write
        except _NothingToReport as exc:
            return self._end(report.id, ReportStatus.FAILED, "NO_FINDINGS_FOUND", str(exc))
        except DestinationError as exc:
            return self._end(report.id, ReportStatus.FAILED, exc.code, exc.message)
        except Exception as exc:  # the request ends FAILED; the job must not retry forever
            log.exception("report failed", extra={"fields": {"report": report.id}})
            return self._end(report.id, ReportStatus.FAILED, "INTERNAL_ERROR", type(exc).__name__)
        return self._end(report.id, ReportStatus.SUCCEEDED, None, None, written)

    def give_up(self, conn: Connection, job: Job, error: str) -> None:
        report_id = str(job.payload.get("report_id", ""))
        store.finish(conn, report_id, ReportStatus.FAILED, self.clock(),
                     error_code="INTERNAL_ERROR", error_message=error[:500])  # fmt: skip

    def _end(
        self, report_id: str, status: ReportStatus, code: str | None, message: str | None,
        written: list[str] | None = None,
    ) -> JobOutcome:  # fmt: skip
        now = self.clock()

        def outcome(conn: Connection) -> None:
            store.finish(conn, report_id, status, now, error_code=code, error_message=message,
                         written=written or [])  # fmt: skip

        return outcome

    def _check(self, report_id: str) -> None:
        if not store.is_open(self.db, report_id):
            raise _Cancelled

    def _findings(self, report: Report, dest: Destination) -> list[str]:
        criteria = report_criteria(report.criteria)
        ids = store.read(self.db, lambda c: findings.matching_ids(c, self.origin, criteria))
        if not ids:
            raise _NothingToReport("no findings match the report's filter criteria")

        def pages() -> Iterator[list[dict[str, Any]]]:
            for start in range(0, len(ids), PAGE):
                self._check(report.id)
                chunk = ids[start : start + PAGE]
                yield store.read(self.db, lambda c: findings.render_shapes(c, self.origin, chunk))  # noqa: B023

        render = RENDERERS[report.format]
        key = f"{report.id}.{EXTENSIONS[report.format]}"
        return [dest.write(key, render(pages(), self.origin.region, self.clock()))]

    def _sboms(self, report: Report, dest: Destination) -> list[str]:
        images = sbom_export.matching(
            store.read(self.db, store.scanned_images), report.criteria, self.origin
        )
        if not images:
            raise _NothingToReport("no scanned image matches the export's resource filter")
        written = []
        for image in images:
            self._check(report.id)
            inventory = store.read(self.db, lambda c: store.stored_inventory(c, image.digest))  # noqa: B023
            if inventory is None:
                continue  # deleted meanwhile
            body = sbom_export.render_sbom(image, inventory, report.format)
            written.append(dest.write(sbom_export.object_key(report.id, self.origin, image),
                                      [body]))  # fmt: skip
        return written
