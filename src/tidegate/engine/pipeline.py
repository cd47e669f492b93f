"""One scan job, start to finish: analyze (or recall) -> match -> store -> tell.

States recorded on the image as it goes: IN_PROGRESS, then COMPLETE / ACTIVE, or FAILED /
UNSUPPORTED_IMAGE with a reason. The findings, the status, the events and the usage record
commit in one transaction together with the job's completion.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.db import reading
from tidegate.engine import findings as store
from tidegate.engine import inventories, notify, scans, usage
from tidegate.engine.jobs import Job
from tidegate.errors import BlobNotFound
from tidegate.oci import mediatypes
from tidegate.registry import metadata
from tidegate.registry.metadata import ManifestRow, RepoRow
from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.match import match_inventory, os_packages_unchecked
from tidegate.scanner.model import Inventory

if TYPE_CHECKING:
    from tidegate.engine.runtime import ScanEngine

log = logging.getLogger(__name__)

IMAGE_CONFIGS = frozenset({mediatypes.OCI_CONFIG, mediatypes.DOCKER_CONFIG})


class Unsupported(Exception):
    """The manifest is not a single container image (an index, an artifact)."""


def _load(rt: ScanEngine, job: Job) -> tuple[RepoRow, ManifestRow] | None:
    with reading(rt.registry.engine) as conn:
        repo = metadata.find_repo_by_id(conn, job.repository_id or 0)
        if repo is None or job.digest is None:
            return None
        row = metadata.find_manifest(conn, repo.id, job.digest)
    return None if row is None else (repo, row)


def _inventory(rt: ScanEngine, row: ManifestRow) -> Inventory:
    key = rt.analyzer.key
    with reading(rt.registry.engine) as conn:
        stored = inventories.load_inventory(conn, row.digest, key)
    if stored is not None:
        return stored
    if row.media_type in mediatypes.INDEXES:
        msg = "an image index: each platform's image is scanned on its own"
        raise Unsupported(msg)
    if row.config_digest is None:
        raise Unsupported("the manifest has no config")
    try:
        with rt.registry.store.open(row.digest) as fh:
            manifest = fh.read()
    except BlobNotFound as exc:
        raise ScanFailed("the manifest is missing from storage") from exc
    config_type = json.loads(manifest).get("config", {}).get("mediaType", "")
    if config_type not in IMAGE_CONFIGS:
        msg = f"not a container image (config media type {config_type or 'missing'})"
        raise Unsupported(msg)
    inventory = rt.analyzer.analyze(manifest)
    with rt.registry.engine.begin() as conn:
        inventories.save_inventory(conn, row.digest, inventory, key, rt.clock())
    return inventory


def run_scan(rt: ScanEngine, job: Job) -> None:
    """Execute a scan job; raises only for errors worth retrying (the queue backs off)."""
    loaded = _load(rt, job)
    if loaded is None:
        rt.queue.complete(job)  # the image was deleted meanwhile
        return
    repo, row = loaded
    with rt.registry.engine.begin() as conn:
        scans.mark(conn, repo.id, row.digest, "IN_PROGRESS", started_at=rt.clock())
    try:
        inventory = _inventory(rt, row)
    except Unsupported as exc:
        _finish_without_findings(rt, job, repo, row, "UNSUPPORTED_IMAGE", str(exc))
        return
    except ScanFailed as exc:
        _finish_without_findings(rt, job, repo, row, "FAILED", exc.message)
        return
    vulns = rt.vulnstore()
    if vulns is None:
        reason = (
            "no usable vulnerability database is installed (none yet, or every feed of it "
            "failed); run `tidegate db update`"
        )
        _finish_without_findings(rt, job, repo, row, "FAILED", reason)
        return
    unchecked = os_packages_unchecked(inventory, vulns.has_namespace)
    if unchecked is not None and job.scan_type != "ENHANCED":
        # As ECR: a basic scan of an OS it has no data for is UNSUPPORTED, never clean.
        _finish_without_findings(rt, job, repo, row, "UNSUPPORTED_IMAGE", _capital(unchecked))
        return
    found = match_inventory(inventory, vulns, include_language=job.scan_type == "ENHANCED")
    now = rt.clock()
    # Read before taking the metadata DB's write lock: it queries the vulnerability DB.
    info = rt.vulndb_info(vulns)
    with rt.registry.engine.begin() as conn:
        if not _still_there(conn, repo, row):
            rt.queue.complete(job, conn)  # deleted while it was analysed: nothing to report
            return
        changes = store.store_findings(conn, repo.id, row.digest, job.scan_type, found, now)
        counts = store.severity_counts(conn, repo.id, row.digest)
        status = _final_status(conn, job, repo, row)
        scans.mark_complete(
            conn, repo.id, row.digest, status=status, counts=counts,
            vulndb_version=vulns.version, vulndb_updated_at=info, now=now,
            description=_enhanced_note(status, unchecked),
        )  # fmt: skip
        notify.scan_completed(rt, conn, repo, row, job.scan_type, counts, changes, initial=True)
        if job.scan_type == "ENHANCED":
            usage.record(conn, repo.name, row.digest, "initial", now)
        rt.queue.complete(job, conn)
    log.info(
        "scan complete",
        extra={"fields": {"repository": repo.name, "digest": row.digest, "type": job.scan_type,
                          "findings": sum(counts.values()), "status": status}},
    )  # fmt: skip


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _enhanced_note(status: str, unchecked: str | None) -> str:
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


def _final_status(conn: Connection, job: Job, repo: RepoRow, row: ManifestRow) -> str:
    if job.scan_type != "ENHANCED":
        return "COMPLETE"
    state = scans.frequency_of(conn, repo.id, row.digest)
    return "ACTIVE" if state == "CONTINUOUS_SCAN" else "COMPLETE"


def _finish_without_findings(
    rt: ScanEngine, job: Job, repo: RepoRow, row: ManifestRow, status: str, reason: str
) -> None:
    with rt.registry.engine.begin() as conn:
        scans.mark(conn, repo.id, row.digest, status, reason, completed_at=rt.clock())
        if status == "FAILED" and job.scan_type == "BASIC":
            notify.basic_scan_failed(rt, conn, repo, row)
        rt.queue.complete(job, conn)
    log.warning(
        "scan ended without findings",
        extra={"fields": {"repository": repo.name, "digest": row.digest, "status": status,
                          "reason": reason}},
    )  # fmt: skip
