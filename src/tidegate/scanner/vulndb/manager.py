"""`db update`: run every updater under the DB lock and publish a new version atomically.

A source that is unchanged, not selected (`only`) or fails keeps its previous records; a
malformed record is skipped and counted; nothing is published unless a source changed or
failed, so an unchanged upstream costs one conditional request per source.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.build import Builder
from tidegate.scanner.vulndb.diff import record_changes
from tidegate.scanner.vulndb.staging import StageJob, StageOutcome, run_jobs
from tidegate.scanner.vulndb.updaters.feeds import SOURCES, select

log = logging.getLogger(__name__)
KEEP_VERSIONS = 3
# 3: per-package vendor ratings (Debian urgency), every CVSS with version and source, the
# `fallbacks` count, END_OF_LIFE fix state. A version of another schema is not built on.
SCHEMA_VERSION = "3"


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What happened to one source in an update."""

    name: str
    status: str  # updated | unchanged | failed | carried (not selected) | absent
    records: int = 0
    skipped: int = 0
    error: str = ""
    seconds: float = 0.0
    fallbacks: int = 0  # records kept with an unusable rating word or CVSS vector


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """The outcome of `update`: the version now current and per-source results."""

    version: int | None
    published: bool
    changed_keys: int
    sources: tuple[SourceResult, ...]
    seconds: float
    merge_seconds: float = 0.0


@dataclass
class _Run:
    builder: Builder
    previous: dict[str, dict[str, object]]
    now: str
    version: int


def update(
    vulndb_dir: Path,
    *,
    mirror: str | None = None,
    only: Sequence[str] | None = None,
    download_dir: Path | None = None,
    workers: int = 0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> UpdateResult:
    """Fetch the selected sources and publish a new DB version if anything changed.

    Raises `UpdateInProgress` if another update holds the lock. Per-source failures never
    raise: they are reported and the source's previous data is carried over. `workers`
    parse sources in parallel processes (0: up to two, as CPUs allow; 1: in this process).
    """
    started = time.monotonic()
    specs = select(only)
    dl = download_dir or vulndb_dir / "downloads"
    lock = layout.acquire_lock(vulndb_dir)
    try:
        layout.remove_stale_builds(vulndb_dir)
        current = layout.current_version(vulndb_dir)
        prev_path = layout.version_path(vulndb_dir, current) if current else None
        if prev_path is not None and _schema_of(prev_path) != SCHEMA_VERSION:
            # Its records are in another shape: rebuild every selected source from scratch.
            log.warning("vulndb version %s has another schema; rebuilding", current)
            prev_path = None
        version = max([current or 0, *layout.existing_versions(vulndb_dir)]) + 1
        build_path = vulndb_dir / f"build-{os.getpid()}.sqlite"
        builder = Builder(build_path, prev_path)
        run = _Run(builder, builder.previous_sources(), clock().isoformat(), version)
        try:
            jobs = {
                s.name: StageJob(
                    s.name, mirror, dl, _prior(run, s.name),
                    vulndb_dir / f"build-{os.getpid()}-{s.name}.sqlite",
                )
                for s in specs
            }  # fmt: skip
            outcomes = run_jobs(list(jobs.values()), workers or _workers(len(jobs)))
            results = [
                _absorb(run, jobs[spec.name], outcomes[spec.name])
                if spec.name in jobs
                else _carry(run, spec.name, "carried")
                for spec in SOURCES
            ]
            if prev_path is not None and all(r.status in ("unchanged", "carried", "absent")
                                           for r in results):  # fmt: skip
                builder.abort()
                build_path.unlink(missing_ok=True)
                return UpdateResult(current, False, 0, tuple(results), _since(started))
            merge_started = time.monotonic()
            changed_sources = {r.name for r in results if r.status == "updated"}
            same_schema = builder.previous_meta().get("schema") == SCHEMA_VERSION
            builder.merge(changed_sources if prev_path is not None and same_schema else None)
            changed = record_changes(builder.conn, has_previous=prev_path is not None)
            builder.finish(_meta(run, current))
            merge_seconds = _since(merge_started)
        except BaseException:
            builder.abort()
            build_path.unlink(missing_ok=True)
            raise
        layout.publish(vulndb_dir, build_path, version)
        layout.prune(vulndb_dir, KEEP_VERSIONS)
        return UpdateResult(version, True, changed, tuple(results), _since(started), merge_seconds)
    finally:
        lock.close()


def _schema_of(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.Error:
        return ""
    finally:
        conn.close()
    return str(row[0]) if row else ""


def _workers(jobs: int) -> int:
    return max(1, min(2, os.cpu_count() or 1, jobs))


def _prior(run: _Run, name: str) -> str | None:
    value = run.previous.get(name, {}).get("fingerprint")
    return str(value) if value else None


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _meta(run: _Run, previous: int | None) -> dict[str, str]:
    return {
        "version": str(run.version),
        "previous": str(previous or ""),
        "built_at": run.now,
        "schema": SCHEMA_VERSION,
    }


def _absorb(run: _Run, job: StageJob, outcome: StageOutcome) -> SourceResult:
    name = outcome.name
    if outcome.status == "unchanged":
        return _carry(run, name, "unchanged")
    if outcome.status != "updated":
        return _fail(run, name, outcome.error)
    run.builder.absorb(job.path)
    job.path.unlink(missing_ok=True)
    run.builder.record_source({
        "name": name, "status": "updated", "fingerprint": outcome.fingerprint,
        "records": outcome.records, "skipped": outcome.skipped, "error": "",
        "fetched_at": run.now, "data_version": run.version, "fallbacks": outcome.fallbacks,
    })  # fmt: skip
    return SourceResult(
        name, "updated", outcome.records, outcome.skipped, "", outcome.seconds, outcome.fallbacks
    )


def _carry(run: _Run, name: str, status: str) -> SourceResult:
    prev = run.previous.get(name)
    if prev is None or not run.builder.carry(name):
        return SourceResult(name, "absent" if status == "carried" else status)
    row = dict(prev)
    row["status"] = status
    row["error"] = ""
    run.builder.record_source(row)
    return SourceResult(
        name, status, int(str(prev.get("records") or 0)),
        fallbacks=int(str(prev.get("fallbacks") or 0)),
    )  # fmt: skip


def _fail(run: _Run, name: str, error: str) -> SourceResult:
    log.error("vulndb source %s failed: %s", name, error)
    prev = run.previous.get(name)
    carried = prev is not None and run.builder.carry(name)
    row = dict(prev) if carried and prev else {"name": name, "records": 0, "skipped": 0}
    row.update(status="failed", error=error, fetched_at=run.now)
    run.builder.record_source(row)
    return SourceResult(name, "failed", int(str(row.get("records") or 0)), 0, error)
