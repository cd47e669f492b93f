"""Fetching and parsing sources in parallel, each into its own staging SQLite file.

Parsing is CPU-bound Python, so sources run in separate processes (spawned, so they hold no
copy of the update lock) and hand back a file the manager copies in with one INSERT per
table. Workers die with their parent (Linux `PR_SET_PDEATHSIG`), so a killed update leaves
no orphan writing into the DB directory.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import httpx

from tidegate.scanner.vulndb.build import SKIPS_KEPT, Builder
from tidegate.scanner.vulndb.model import Advisory
from tidegate.scanner.vulndb.updaters.base import (
    Fallback,
    Fingerprint,
    Parsed,
    Skipped,
    Unchanged,
    UpdaterError,
)
from tidegate.scanner.vulndb.updaters.feeds import BY_NAME, make_updater

log = logging.getLogger(__name__)
# Biggest first, so two workers finish at about the same time.
_COST_ORDER = ("ubuntu-cve-tracker", "debian-osv", "alpine-secdb", "amazon-alas", "almalinux-osv")
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class StageJob:
    """One source to fetch and parse into `path`."""

    name: str
    mirror: str | None
    download_dir: Path
    prior: str | None
    path: Path


@dataclass(frozen=True, slots=True)
class StageOutcome:
    """What a job produced: `updated` (records in `path`), `unchanged` or `failed`."""

    name: str
    status: str
    fingerprint: str = ""
    records: int = 0
    skipped: int = 0
    error: str = ""
    seconds: float = 0.0
    fallbacks: int = 0


def stage_source(job: StageJob) -> StageOutcome:
    """Fetch and parse one source; never raises for a source-level problem."""
    started = time.monotonic()
    updater = make_updater(BY_NAME[job.name], job.mirror, job.download_dir)
    with httpx.Client(timeout=httpx.Timeout(60.0), follow_redirects=True) as http:
        try:
            prior = Fingerprint(job.prior) if job.prior else None
            payload, fingerprint = updater.fetch(prior, http)
        except Unchanged:
            return StageOutcome(job.name, "unchanged")
        except UpdaterError as exc:
            return StageOutcome(job.name, "failed", error=str(exc))
        builder = Builder(job.path, None)
        counter = _Counter(builder, job.name)
        try:
            staged = builder.stage(job.name, counter.advisories(updater.parse(payload)))
            builder.finish({})
        except Exception as exc:
            builder.abort()
            job.path.unlink(missing_ok=True)
            return StageOutcome(job.name, "failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            payload.close()
    seconds = round(time.monotonic() - started, 3)
    log.info(
        "vulndb source %s: %d records, %d skipped, %d fell back", job.name, staged,
        counter.skipped, counter.fallbacks,
    )  # fmt: skip
    return StageOutcome(
        job.name, "updated", fingerprint, staged, counter.skipped, "", seconds, counter.fallbacks
    )


class _Counter:
    """Passes advisories through; counts skipped records and fallbacks, keeping the first
    reasons of each (fallbacks as `fallback: ...` in `skips`)."""

    def __init__(self, builder: Builder, source: str) -> None:
        self.builder = builder
        self.source = source
        self.skipped = 0
        self.fallbacks = 0

    def advisories(self, items: Iterator[Parsed]) -> Iterator[Advisory]:
        for item in items:
            if isinstance(item, Fallback):
                self.fallbacks += 1
                if self.fallbacks <= SKIPS_KEPT:
                    self.builder.record_skip(self.source, item.where, "fallback: " + item.reason)
                log.info("vulndb %s: %s: %s", self.source, item.where, item.reason)
            elif isinstance(item, Skipped):
                self.skipped += 1
                if self.skipped <= SKIPS_KEPT:
                    self.builder.record_skip(self.source, item.where, item.reason)
                log.warning("vulndb %s: skipped %s: %s", self.source, item.where, item.reason)
            else:
                yield item


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass  # not Linux: an orphan only finishes its own staging file
    if os.getppid() != parent:
        # The parent died before the signal was armed: nobody will read our work.
        os._exit(1)


def run_jobs(jobs: Sequence[StageJob], workers: int) -> dict[str, StageOutcome]:
    """Run jobs in `workers` processes (in this process when 1), results by source name."""
    if workers <= 1 or len(jobs) <= 1:
        return {job.name: stage_source(job) for job in jobs}
    ordered = sorted(jobs, key=lambda j: _COST_ORDER.index(j.name) if j.name in _COST_ORDER else 99)
    ctx = multiprocessing.get_context("spawn")
    out: dict[str, StageOutcome] = {}
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        futures = {job.name: pool.submit(stage_source, job) for job in ordered}
        for name, future in futures.items():
            try:
                out[name] = future.result()
            except BrokenProcessPool as exc:
                out[name] = StageOutcome(name, "failed", error=f"worker died: {exc}")
    return out
