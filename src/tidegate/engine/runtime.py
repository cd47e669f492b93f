"""The scan engine at run time: worker threads, the DB-version watcher, the update schedule.

`tidegate serve` runs it in-process by default; `tidegate worker` runs it alone. Every
process may run one: jobs are claimed with leases, and a new DB version is claimed by
compare-and-set, so many engines over one PostgreSQL share the work without doubling it.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy.engine import Connection

from tidegate import singletons
from tidegate.auth import audit
from tidegate.config import Settings
from tidegate.engine import (
    overview,
    owner,
    pipeline,
    rescan,
    retention,
    scans,
    scratch,
    suppression,
    vulndb_share,
)
from tidegate.engine.analysis import AnalysisPool, analyzer_key
from tidegate.engine.context import JobHandler, JobOutcome, ScanContext
from tidegate.engine.jobs import Job, JobQueue, notify_on_enqueue
from tidegate.events.model import Origin
from tidegate.metrics import instruments
from tidegate.registry import lifecycle
from tidegate.registry.service import RegistryService
from tidegate.scanner.image.limits import Limits
from tidegate.scanner.model import Inventory
from tidegate.scanner.vulndb.store import NoDatabase, VulnStore
from tidegate.singletons import Singleton
from tidegate.states import JobKind

log = logging.getLogger(__name__)

LEASE_SECONDS = 300.0
EXPIRY_CHECK_SECONDS = 3600.0
# The commit hook that nudges a worker runs just before the DBAPI commit: a nudged worker
# gives the commit this long to land before it looks (the poll stays the backstop).
NUDGE_GRACE_SECONDS = 0.05


def scan_limits(settings: Settings) -> Limits:
    """The scanner's budgets from the settings."""
    return Limits(
        max_layer_bytes=settings.max_layer_uncompressed_bytes,
        max_image_bytes=settings.max_image_uncompressed_bytes,
        max_files=settings.max_files_per_image,
        max_ratio=settings.max_compression_ratio,
        ratio_after=settings.compression_ratio_after_bytes,
        max_config_bytes=settings.max_config_bytes,
        max_metadata_file_bytes=settings.max_metadata_file_bytes,
    )


def _plugins(settings: Settings) -> tuple[str, ...]:
    return settings.analyzer_plugins


class _AnalyzerHandle:
    def __init__(self, settings: Settings, scratch_dir: Path) -> None:
        self._analyzer = AnalysisPool(
            settings.blob_dir, settings.cache_dir / "layers", scratch_dir,
            storage=settings.storage, limits=scan_limits(settings),
            timeout_seconds=settings.scan_timeout_seconds, plugins=_plugins(settings),
        )  # fmt: skip
        self.key = analyzer_key()

    def child_pids(self) -> list[int]:
        return self._analyzer.child_pids()

    def analyze(self, manifest: bytes) -> Inventory:
        return self._analyzer.analyze(manifest)

    def close(self) -> None:
        self._analyzer.close()


class ScanEngine:
    """Owns the queue consumers and the vulnerability DB handles of one process."""

    def __init__(
        self,
        registry: RegistryService,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        poll_seconds: float = 1.0,
        kinds: Mapping[JobKind, JobHandler] | None = None,
    ) -> None:
        self.registry = registry
        self.kinds = dict(kinds or {})
        self.settings = settings
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.queue = JobQueue(registry.engine, clock, on_exhausted=self._exhausted)
        self.origin = Origin(settings.registry_id, settings.region)
        self.identity = owner.current()
        # Our own scratch directory: a sweep by another process spares it while we live.
        self.analyzer = _AnalyzerHandle(settings, settings.scratch_root / str(self.identity))
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._undo_nudge: Callable[[], None] = lambda: None
        self._local = threading.local()
        self._usable: dict[int, bool] = {}
        self.worker_id = str(self.identity)
        self.lease_seconds = float(settings.scan_lease_seconds or LEASE_SECONDS)
        self.context = ScanContext(
            db=registry.engine, blobs=registry.store, analyzer=self.analyzer,
            vulns=self.vulnstore, open_vulndb=self._open_version, origin=self.origin,
            clock=clock, continuous_days=settings.continuous_scan_duration_days,
        )  # fmt: skip

    # -- vulnerability DB ---------------------------------------------------------------

    def vulnstore(self) -> VulnStore | None:
        """This thread's handle on the current DB version (reopened when a new one lands).

        None when there is no DB, or when no source of the current version has data (a
        first import whose every feed failed): matching against it would call every image
        clean.
        """
        current: VulnStore | None = getattr(self._local, "store", None)
        try:
            if current is None:
                current = VulnStore(self.settings.vulndb_dir)
                self._local.store = current
            else:
                current.reopen()
        except NoDatabase:
            return None
        usable = self._usable.get(current.version)
        if usable is None:
            usable = any(s.records > 0 for s in current.version_info().sources)
            self._usable[current.version] = usable
        return current if usable else None

    def _open_version(self, version: int) -> VulnStore:
        try:
            return VulnStore(self.settings.vulndb_dir, version=version)
        except NoDatabase:
            # A re-scan enqueued by another process may name a version not fetched here yet.
            if vulndb_share.sync(self.registry.engine, self.settings.vulndb_dir) is None:
                raise
            return VulnStore(self.settings.vulndb_dir, version=version)

    # -- threads --------------------------------------------------------------------------

    def recover(self) -> int:
        """Take back what dead processes of this host left: their jobs and scratch space.

        Run at start, so a scan a killed predecessor held resumes now, not when its lease
        runs out; returns how many jobs went back to the queue.
        """
        scratch.sweep(self.settings.scratch_root)
        try:
            count = self.queue.reclaim(_held_by_the_dead)
        except Exception:  # the leases still expire; never keep the engine from starting
            log.exception("reclaiming the jobs of dead processes failed")
            return 0
        if count:
            log.info("reclaimed jobs of a dead process", extra={"fields": {"jobs": count}})
            self.wake.set()
        return count

    def start(self, workers: int | None = None) -> None:
        self.recover()
        # A job enqueued in this process (a push, StartImageScan) wakes a worker at once;
        # jobs from other processes wait for the poll.
        self._undo_nudge = notify_on_enqueue(self.registry.engine, self.nudge)
        count = self.settings.workers if workers is None else workers
        for i in range(max(1, count)):
            thread = threading.Thread(target=self._work, name=f"scan-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        watcher = threading.Thread(target=self._watch, name="vulndb-watcher", daemon=True)
        watcher.start()
        self._threads.append(watcher)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._undo_nudge()
        self._undo_nudge = lambda: None
        self.wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        self.analyzer.close()
        scratch.remove_own(self.settings.scratch_root)

    def nudge(self) -> None:
        """Tell idle workers a job was enqueued (called when its transaction commits)."""
        self.wake.set()

    def _work(self) -> None:
        worker = f"{self.worker_id}:{threading.current_thread().name}"
        while not self._stop.is_set():
            try:
                job = self.queue.claim(worker, self.lease_seconds)
            except Exception:
                log.exception("claiming a job failed")
                job = None
            if job is None:
                nudged = self.wake.wait(self.poll_seconds)
                self.wake.clear()
                if nudged:
                    self._stop.wait(NUDGE_GRACE_SECONDS)
                continue
            self.run_job(job)

    def run_job(self, job: Job) -> None:
        """Run one claimed job; failures are retried with backoff by the queue."""
        renewer = _LeaseRenewer(self.queue, job, self.lease_seconds)
        renewer.start()
        started, outcome_label = time.monotonic(), "error"
        try:
            outcome = self._run(job)
            with self.registry.engine.begin() as conn:
                outcome(conn)
                self.queue.complete(job, conn)  # the job's one way out
            outcome_label = "completed"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            trace = error + "\n" + traceback.format_exc(limit=5)
            retry = self.queue.fail(job, trace, on_give_up=self._give_up(job, error))
            log.warning("job failed", extra={"fields": {"job": job.id, "retry": retry,
                                                        "error": error}})  # fmt: skip
        finally:
            renewer.stop()
            instruments.job_finished(job.kind, outcome_label, time.monotonic() - started)

    def _run(self, job: Job) -> JobOutcome:
        kind = self.kinds.get(job.kind)
        if kind is not None:
            return kind.run(job)
        run: Callable[[ScanContext, Job], JobOutcome]
        run = rescan.run_rescan if job.kind is JobKind.RESCAN else pipeline.run_scan
        return run(self.context, job)

    def _give_up(self, job: Job, error: str) -> Callable[[Connection], None] | None:
        """What ends a scan job's image scan when its retries run out (nothing for re-scans)."""
        kind = self.kinds.get(job.kind)
        if kind is not None:
            return lambda conn: kind.give_up(conn, job, error)
        repo_id, digest = job.repository_id, job.digest
        if job.kind is JobKind.RESCAN or repo_id is None or digest is None:
            return None
        reason = f"The scan failed after {job.attempts} attempts: {error}"
        return lambda conn: scans.give_up(conn, repo_id, digest, reason, self.clock())

    def _exhausted(self, conn: Connection, job: Job) -> None:
        """A job whose worker died during every attempt: its scan ends FAILED with it."""
        error = f"the scanning process died during each of {job.attempts} attempts"
        give_up = self._give_up(job, error)
        if give_up is not None:
            give_up(conn)

    def _watch(self) -> None:
        last_expiry = last_lifecycle = 0.0
        interval = self.settings.lifecycle_interval_seconds
        while not self._stop.wait(self.poll_seconds):
            self.check_vulndb()
            self.lapse_suppression_rules()
            if time.monotonic() - last_expiry > EXPIRY_CHECK_SECONDS:
                last_expiry = time.monotonic()
                self.expire_continuous_scans()
                self.apply_retention()
                self.snapshot_findings()
            if interval > 0 and time.monotonic() - last_lifecycle > interval:
                last_lifecycle = time.monotonic()
                self.apply_lifecycle_policies()

    def expire_continuous_scans(self) -> int:
        """End continuous scanning of images older than the configured duration."""
        try:
            with singletons.hold(self.registry.engine, Singleton.RESCAN_SCHEDULER) as held:
                if not held:
                    return 0
                return rescan.expire_due(
                    self.registry.engine, self.settings.continuous_scan_duration_days, self.clock()
                )
        except Exception:  # retried on the next round
            log.exception("expiring continuous scans failed")
            return 0

    def lapse_suppression_rules(self) -> int:
        """Findings of suppression rules whose expiry passed become ACTIVE again (one cheap
        query per poll when none is due)."""
        try:
            return suppression.lapse_due(self.registry.engine, self.origin, self.clock())
        except Exception:  # retried on the next poll
            log.exception("applying suppression rule expiry failed")
            return 0

    def apply_lifecycle_policies(self) -> int:
        """Expire the images the repositories' lifecycle policies select."""
        try:
            with singletons.hold(self.registry.engine, Singleton.LIFECYCLE) as held:
                return lifecycle.apply(self.registry, self.clock()) if held else 0
        except Exception:  # retried on the next round
            log.exception("applying lifecycle policies failed")
            return 0

    def apply_retention(self) -> retention.PurgeReport | None:
        """Remove findings past retention and scan data nothing references any more."""
        try:
            with singletons.hold(self.registry.engine, Singleton.RETENTION) as held:
                if not held:
                    return None
                audit.purge(self.registry.engine, self.clock(), self.settings.audit_retention_days)
                return retention.purge(self.registry.engine, self.clock())
        except Exception:  # retried on the next round
            log.exception("applying retention failed")
            return None

    def snapshot_findings(self) -> None:
        """Today's open findings per severity, so the console's chart has a point every day."""
        try:
            overview.snapshot_now(self.registry.engine, self.clock())
        except Exception:  # retried on the next round
            log.exception("recording the daily findings snapshot failed")

    def check_vulndb(self) -> bool:
        """Fetch a DB version another process shared, and enqueue the re-scan of a new one.

        Fetching is every process's own; claiming the re-scan is the scheduler's, held by one
        process at a time (the claim is a compare-and-set as well).
        """
        db = self.registry.engine
        try:
            current = vulndb_share.sync(db, self.settings.vulndb_dir)
            if current is None:
                return False
            with singletons.hold(db, Singleton.RESCAN_SCHEDULER) as held:
                claimed = held and rescan.claim_new_version(db, current, self.clock())
            if claimed:
                log.info("new vulnerability DB version", extra={"fields": {"version": current}})
                self.wake.set()
                return True
        except Exception:
            log.exception("checking the vulnerability DB failed")
        return False

    def drain(self, timeout: float = 60.0) -> None:
        """Run queued jobs in this thread until none is left (CLI and tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.queue.claim(f"{self.worker_id}:drain", self.lease_seconds)
            if job is None:
                return
            self.run_job(job)


def _held_by_the_dead(lease_owner: str) -> bool:
    who = owner.parse(lease_owner)
    return who is not None and who.is_dead_here()


class _LeaseRenewer:
    def __init__(self, queue: JobQueue, job: Job, lease_seconds: float) -> None:
        self.queue = queue
        self.job = job
        self.lease_seconds = lease_seconds
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"lease-{job.id}")

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(self.lease_seconds / 3):
            if not self.queue.renew(self.job, self.lease_seconds):
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join(1.0)
