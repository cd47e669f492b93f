"""One scan job, start to finish: analyze (or recall) -> match -> store -> tell.

States recorded on the image as it goes: IN_PROGRESS, then COMPLETE / ACTIVE, or FAILED /
UNSUPPORTED_IMAGE with a reason. `run_scan` returns the final writes (findings, status,
events, usage record) as a `JobOutcome`; the runtime commits them in one transaction
together with the job's completion.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.db import reading
from tidegate.engine import findings as store
from tidegate.engine import inventories, notify, scans, suppression, usage
from tidegate.engine.context import JobOutcome, ScanContext, nothing_to_write, vulndb_updated_at
from tidegate.engine.jobs import Job
from tidegate.errors import BlobNotFound
from tidegate.oci import mediatypes
from tidegate.registry import metadata
from tidegate.registry.metadata import ManifestRow, RepoRow
from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.match import match_inventory, os_packages_unchecked
from tidegate.scanner.model import Inventory
from tidegate.states import ScanFrequency, ScanStatus, ScanType

log = logging.getLogger(__name__)

IMAGE_CONFIGS = frozenset({mediatypes.OCI_CONFIG, mediatypes.DOCKER_CONFIG})


class NotAnImage(Exception):
    """The manifest is not a single container image (an index, an artifact): the scan ends
    UNSUPPORTED_IMAGE. Not `errors.Unsupported`, which is a request a client made."""


def _load(ctx: ScanContext, job: Job) -> tuple[RepoRow, ManifestRow] | None:
    with reading(ctx.db) as conn:
        repo = metadata.find_repo_by_id(conn, job.repository_id or 0)
        if repo is None or job.digest is None:
            return None
        row = metadata.find_manifest(conn, repo.id, job.digest)
    return None if row is None else (repo, row)


def _inventory(ctx: ScanContext, row: ManifestRow) -> Inventory:
    key = ctx.analyzer.key
    with reading(ctx.db) as conn:
        stored = inventories.load_inventory(conn, row.digest, key)
    if stored is not None:
        return stored
    if row.media_type in mediatypes.INDEXES:
        msg = "an image index: each platform's image is scanned on its own"
        raise NotAnImage(msg)
    if row.config_digest is None:
        raise NotAnImage("the manifest has no config")
    try:
        with ctx.blobs.open(row.digest) as fh:
            manifest = fh.read()
    except BlobNotFound as exc:
        raise ScanFailed("the manifest is missing from storage") from exc
    config_type = json.loads(manifest).get("config", {}).get("mediaType", "")
    if config_type not in IMAGE_CONFIGS:
        msg = f"not a container image (config media type {config_type or 'missing'})"
        raise NotAnImage(msg)
    inventory = ctx.analyzer.analyze(manifest)
    with ctx.db.begin() as conn:
        inventories.save_inventory(conn, row.digest, inventory, key, ctx.clock())
    return inventory


def run_scan(ctx: ScanContext, job: Job) -> JobOutcome:
    """Execute a scan job up to its final writes, which it returns for the runtime to commit
    with the job's completion; raises only for errors worth retrying (the queue backs off)."""
    loaded = _load(ctx, job)
    if loaded is None:
        return nothing_to_write  # the image was deleted meanwhile
    repo, row = loaded
    with ctx.db.begin() as conn:
        scans.mark(conn, repo.id, row.digest, ScanStatus.IN_PROGRESS, started_at=ctx.clock())
    try:
        inventory = _inventory(ctx, row)
    except NotAnImage as exc:
        return _without_findings(ctx, job, repo, row, ScanStatus.UNSUPPORTED_IMAGE, str(exc))
    except ScanFailed as exc:
        return _without_findings(ctx, job, repo, row, ScanStatus.FAILED, exc.message)
    vulns = ctx.vulns()
    if vulns is None:
        reason = (
            "no usable vulnerability database is installed (none yet, or every feed of it "
            "failed); run `tidegate db update`"
        )
        return _without_findings(ctx, job, repo, row, ScanStatus.FAILED, reason)
    unchecked = os_packages_unchecked(inventory, vulns.has_namespace)
    if unchecked is not None and job.scan_type != ScanType.ENHANCED:
        # As ECR: a basic scan of an OS it has no data for is UNSUPPORTED, never clean.
        return _without_findings(
            ctx, job, repo, row, ScanStatus.UNSUPPORTED_IMAGE, _capital(unchecked)
        )
    found = match_inventory(inventory, vulns, include_language=job.scan_type == ScanType.ENHANCED)
    now = ctx.clock()
    # Read before taking the metadata DB's write lock: it queries the vulnerability DB.
    info = vulndb_updated_at(vulns)
    version = vulns.version

    def record(conn: Connection) -> None:
        if not _still_there(conn, repo, row):
            return  # deleted while it was analysed: nothing to report
        enhanced = job.scan_type == ScanType.ENHANCED
        suppress = suppression.rules_clause(conn, ctx.origin, now) if enhanced else None
        changes = store.store_findings(
            conn, repo.id, row.digest, job.scan_type, found, now, suppress=suppress
        )
        counts = store.severity_counts(conn, repo.id, row.digest)
        status = _final_status(conn, job, repo, row)
        scans.mark_complete(
            conn, repo.id, row.digest, status=status, counts=counts,
            vulndb_version=version, vulndb_updated_at=info, now=now,
            description=_enhanced_note(status, unchecked),
        )  # fmt: skip
        notify.scan_completed(
            ctx.origin, conn, repo, row, job.scan_type, counts, changes, initial=True
        )
        if job.scan_type == ScanType.ENHANCED:
            usage.record(conn, repo.name, row.digest, "initial", now)
        log.info(
            "scan complete",
            extra={"fields": {"repository": repo.name, "digest": row.digest,
                              "type": job.scan_type, "findings": sum(counts.values()),
                              "status": status}},
        )  # fmt: skip

    return record


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _enhanced_note(status: ScanStatus, unchecked: str | None) -> str:
    """ECR's wording, plus why the OS packages were not checked when they were not."""
    if unchecked is None:
        return ""
    return f"{scans.DESCRIPTIONS[status]} Language packages were scanned; {unchecked}."


def _still_there(conn: Connection, repo: RepoRow, row: ManifestRow) -> bool:
    # Locked (PostgreSQL) so a delete either waits for this scan's findings, which its hook
    # then closes, or has committed and the scan stores nothing.
    m = t.manifests
    query = sa.select(m.c.id).where(m.c.repository_id == repo.id, m.c.digest == row.digest)
    return conn.execute(query.with_for_update()).first() is not None


def _final_status(conn: Connection, job: Job, repo: RepoRow, row: ManifestRow) -> ScanStatus:
    if job.scan_type != ScanType.ENHANCED:
        return ScanStatus.COMPLETE
    state = scans.frequency_of(conn, repo.id, row.digest)
    return ScanStatus.ACTIVE if state == ScanFrequency.CONTINUOUS_SCAN else ScanStatus.COMPLETE


def _without_findings(
    ctx: ScanContext, job: Job, repo: RepoRow, row: ManifestRow, status: ScanStatus, reason: str
) -> JobOutcome:
    completed_at = ctx.clock()

    def record(conn: Connection) -> None:
        scans.mark(conn, repo.id, row.digest, status, reason, completed_at=completed_at)
        if status == ScanStatus.FAILED and job.scan_type == ScanType.BASIC:
            notify.basic_scan_failed(ctx.origin, conn, repo, row)
        log.warning(
            "scan ended without findings",
            extra={"fields": {"repository": repo.name, "digest": row.digest,
                              "status": status, "reason": reason}},
        )  # fmt: skip

    return record
