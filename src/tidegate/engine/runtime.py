"""The scan engine at run time: worker threads, the DB-version watcher, the update schedule.

`tidegate serve` runs it in-process by default; `tidegate worker` runs it alone. Every
process may run one: jobs are claimed with leases, and a new DB version is claimed by
compare-and-set, so many engines over one PostgreSQL share the work without doubling it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Connection

from tidegate.auth import audit
from tidegate.config import Settings
from tidegate.engine import overview, pipeline, rescan, retention, scans
from tidegate.engine.analysis import Analyzer, analyzer_key
from tidegate.engine.jobs import Job, JobQueue
from tidegate.events.model import Origin
from tidegate.registry import lifecycle
from tidegate.registry.service import RegistryService
from tidegate.scanner.model import Inventory
from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.store import NoDatabase, VulnStore

log = logging.getLogger(__name__)

LEASE_SECONDS = 300.0
EXPIRY_CHECK_SECONDS = 3600.0


class _AnalyzerHandle:
    def __init__(self, settings: Settings, processes: int) -> None:
        self._analyzer = Analyzer(settings.blob_dir, settings.cache_dir / "layers", processes)
        self.key = analyzer_key()

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
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.queue = JobQueue(registry.engine, clock)
        self.origin = Origin(settings.registry_id, settings.region)
        self.analyzer = _AnalyzerHandle(settings, max(1, settings.workers))
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._local = threading.local()
        self._usable: dict[int, bool] = {}
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"

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

    def vulndb_info(self, store: VulnStore) -> float | None:
        """When the DB version was built (ECR's vulnerabilitySourceUpdatedAt)."""
        built = store.version_info().built_at
        try:
            return datetime.fromisoformat(built.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None

    # -- threads --------------------------------------------------------------------------

    def start(self, workers: int | None = None) -> None:
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
        self.wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        self.analyzer.close()

    def nudge(self) -> None:
        """Tell idle workers a job was enqueued (in this process)."""
        self.wake.set()

    def _work(self) -> None:
        worker = f"{self.worker_id}:{threading.current_thread().name}"
        while not self._stop.is_set():
            try:
                job = self.queue.claim(worker, LEASE_SECONDS)
            except Exception:
                log.exception("claiming a job failed")
                job = None
            if job is None:
                self.wake.wait(self.poll_seconds)
                self.wake.clear()
                continue
            self.run_job(job)

    def run_job(self, job: Job) -> None:
        """Run one claimed job; failures are retried with backoff by the queue."""
        renewer = _LeaseRenewer(self.queue, job)
        renewer.start()
        try:
            if job.kind == "rescan":
                rescan.run_rescan(self, job)
            else:
                pipeline.run_scan(self, job)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            trace = error + "\n" + traceback.format_exc(limit=5)
            retry = self.queue.fail(job, trace, on_give_up=self._give_up(job, error))
            log.warning("job failed", extra={"fields": {"job": job.id, "retry": retry,
                                                        "error": error}})  # fmt: skip
        finally:
            renewer.stop()

    def _give_up(self, job: Job, error: str) -> Callable[[Connection], None] | None:
        """What ends a scan job's image scan when its retries run out (nothing for re-scans)."""
        repo_id, digest = job.repository_id, job.digest
        if job.kind == "rescan" or repo_id is None or digest is None:
            return None
        reason = f"The scan failed after {job.attempts} attempts: {error}"
        return lambda conn: scans.give_up(conn, repo_id, digest, reason, self.clock())

    def _watch(self) -> None:
        last_expiry = last_lifecycle = 0.0
        interval = self.settings.lifecycle_interval_seconds
        while not self._stop.wait(self.poll_seconds):
            self.check_vulndb()
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
            return rescan.expire_due(self)
        except Exception:  # retried on the next round
            log.exception("expiring continuous scans failed")
            return 0

    def apply_lifecycle_policies(self) -> int:
        """Expire the images the repositories' lifecycle policies select."""
        try:
            return lifecycle.apply(self.registry, self.clock())
        except Exception:  # retried on the next round
            log.exception("applying lifecycle policies failed")
            return 0

    def apply_retention(self) -> retention.PurgeReport | None:
        """Remove findings past retention and scan data nothing references any more."""
        try:
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
        """Enqueue a re-scan when a newer DB version was published (by any process)."""
        try:
            current = layout.current_version(self.settings.vulndb_dir)
            if current is None:
                return False
            if rescan.claim_new_version(self, current):
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
            job = self.queue.claim(f"{self.worker_id}:drain", LEASE_SECONDS)
            if job is None:
                return
            self.run_job(job)


class _LeaseRenewer:
    def __init__(self, queue: JobQueue, job: Job) -> None:
        self.queue = queue
        self.job = job
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"lease-{job.id}")

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(LEASE_SECONDS / 3):
            if not self.queue.renew(self.job, LEASE_SECONDS):
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join(1.0)
