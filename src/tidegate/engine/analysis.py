"""Run image analysis in child processes: CPU-bound work off the server's event loop and GIL,
and a hostile layer that exhausts memory or time kills a child, not the server.

Each engine thread owns one long-lived child (started with `spawn`: the server has threads
and sockets a fork would copy) so one analysis can be killed without touching another's.
A child gets the scan's CPU budget as RLIMIT_CPU (the kernel ends it with SIGXCPU) and the
parent stops waiting at the wall-clock budget and kills it.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import math
import multiprocessing
import os
import resource
import signal
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from tidegate.config import StorageSection
from tidegate.errors import StorageUnavailable, TidegateError
from tidegate.oci.digest import Digest
from tidegate.registry.storage.base import BlobStore
from tidegate.registry.storage.factory import open_store
from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.image.limits import BudgetExceeded, Limits
from tidegate.scanner.inventory import analyze_image, default_analyzers
from tidegate.scanner.model import Inventory
from tidegate.scanner.sources.layout import BlobStoreSource

log = logging.getLogger(__name__)

TIMEOUT_BUDGET = "scan_timeout_seconds"
# Time the parent grants past the budget before killing: the child's own CPU limit, which
# names the cause precisely, should fire first when the analysis is CPU-bound.
_GRACE_SECONDS = 2.0
_PR_SET_PDEATHSIG = 1


class AnalysisCrashed(Exception):
    """The analyzer raised something unexpected (a bug): worth retrying, then giving up."""


@dataclass(frozen=True, slots=True)
class _Task:
    storage: StorageSection
    blob_root: str
    manifest: bytes
    cache_dir: str
    scratch_dir: str
    limits: Limits
    cpu_seconds: float


def analyzer_key() -> str:
    """Names and versions of every analyzer: a stored inventory is reused only if it matches."""
    return ",".join(f"{a.name}@{a.version}" for a in default_analyzers())


_STORES: dict[tuple[StorageSection, str], BlobStore] = {}


def _store(task: _Task) -> BlobStore:
    """The child's store, made once: an S3 client costs a model load and a connection pool."""
    key = (task.storage, task.blob_root)
    if key not in _STORES:
        _STORES[key] = open_store(task.storage, Path(task.blob_root))
    return _STORES[key]


def _analyze(task: _Task) -> tuple[str, Inventory | str]:
    store = _store(task)

    def open_blob(digest: str):  # type: ignore[no-untyped-def]
        return store.open(Digest(digest))

    def open_manifest(digest: str) -> bytes:
        with store.open(Digest(digest)) as fh:
            return fh.read()

    source = BlobStoreSource(task.manifest, open_blob, open_manifest=open_manifest)
    Path(task.scratch_dir).mkdir(parents=True, exist_ok=True)  # even if swept meanwhile
    try:
        with tempfile.TemporaryDirectory(prefix="scan-", dir=task.scratch_dir) as scratch:
            results = analyze_image(
                source, cache_dir=Path(task.cache_dir), scratch_dir=Path(scratch),
                limits=task.limits,
            )  # fmt: skip
    except StorageUnavailable as exc:  # not the image's fault: the job is retried later
        return "unavailable", exc.message
    except TidegateError as exc:  # ScanFailed and BudgetExceeded among them
        return "failed", exc.message
    if not results:
        return "failed", "the manifest names no image to analyze"
    return "ok", results[0].inventory


def _cpu_limit(seconds: float) -> None:
    """Let this process use `seconds` more CPU time (RLIMIT_CPU counts from its start)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = resource.RLIM_INFINITY if seconds <= 0 else math.ceil(spent + seconds)
    if hard != resource.RLIM_INFINITY and (soft == resource.RLIM_INFINITY or soft > hard):
        soft = hard
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (a kill -9 of the server).

    Otherwise an orphaned analysis keeps reading a hostile layer for its whole budget.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pipe's EOF ends the loop instead
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _serve(conn: Connection, plugins: Sequence[str], parent: int) -> None:
    """The child's loop: one task in, one result out, until the parent closes the pipe."""
    _die_with(parent)
    for name in plugins:  # extra analyzers register themselves on import
        importlib.import_module(name)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        _cpu_limit(task.cpu_seconds)
        try:
            result: tuple[str, object] = _analyze(task)
        except Exception as exc:  # a bug in an analyzer; RecursionError too
            result = ("crashed", f"{type(exc).__name__}: {exc}")
        _cpu_limit(0)
        conn.send(result)


class _Child:
    def __init__(self, plugins: Sequence[str]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child_end = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(
            target=_serve, args=(child_end, tuple(plugins), os.getpid()), daemon=True,
            name="tidegate-analysis",
        )  # fmt: skip
        self.process.start()
        child_end.close()

    def kill(self) -> int | None:
        self.process.kill()
        self.process.join(10)
        self.conn.close()
        return self.process.exitcode

    def reap(self) -> int | None:
        self.process.join(10)
        self.conn.close()
        return self.process.exitcode

    def close(self) -> None:
        self.conn.close()  # the child sees EOF and exits
        self.process.join(5)
        if self.process.is_alive():
            self.kill()


class AnalysisPool:
    """Analyzes images from the configured blob store in per-thread child processes."""

    def __init__(
        self,
        blob_root: Path,
        cache_dir: Path,
        scratch_dir: Path,
        *,
        storage: StorageSection | None = None,
        limits: Limits | None = None,
        timeout_seconds: float = 0,
        plugins: Sequence[str] = (),
    ) -> None:
        self.blob_root = blob_root
        self.storage = storage or StorageSection()
        self.cache_dir = cache_dir
        self.scratch_dir = scratch_dir
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.limits = limits or Limits()
        self.timeout_seconds = timeout_seconds
        self.plugins = tuple(plugins)
        self._local = threading.local()
        self._children: list[_Child] = []
        self._lock = threading.Lock()

    def _child(self) -> _Child:
        child: _Child | None = getattr(self._local, "child", None)
        if child is None or not child.process.is_alive():
            # Created on first use: a process that never analyses leaves no scratch behind.
            self.scratch_dir.mkdir(parents=True, exist_ok=True)
            child = _Child(self.plugins)
            self._local.child = child
            with self._lock:
                self._children.append(child)
        return child

    def _forget(self, child: _Child) -> None:
        self._local.child = None
        with self._lock:
            if child in self._children:
                self._children.remove(child)

    def child_pids(self) -> list[int]:
        """The analysis processes running now (for operators and tests)."""
        with self._lock:
            return [c.process.pid for c in self._children if c.process.pid is not None]

    def analyze(self, manifest: bytes) -> Inventory:
        """The inventory of a single-platform image manifest.

        Raises ScanFailed (BudgetExceeded for a budget) when the image cannot be analysed,
        AnalysisCrashed when an analyzer has a bug, StorageUnavailable when the blob store
        cannot be reached (both retried by the queue).
        """
        task = _Task(
            self.storage, str(self.blob_root), manifest, str(self.cache_dir), str(self.scratch_dir),
            self.limits, self.timeout_seconds,
        )  # fmt: skip
        child = self._child()
        wait = self.timeout_seconds + _GRACE_SECONDS if self.timeout_seconds > 0 else None
        try:
            child.conn.send(task)
            ready = child.conn.poll(wait)
            if not ready:
                self._forget(child)
                child.kill()
                msg = f"the analysis ran longer than {self.timeout_seconds:g} seconds"
                raise BudgetExceeded(TIMEOUT_BUDGET, msg)
            status, value = child.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self._forget(child)
            raise self._death(child.reap()) from None
        if status == "ok" and isinstance(value, Inventory):
            return value
        if status == "crashed":
            raise AnalysisCrashed(str(value))
        if status == "unavailable":
            raise StorageUnavailable(str(value))
        raise ScanFailed(str(value))

    def _death(self, code: int | None) -> ScanFailed:
        if code == -signal.SIGXCPU:
            msg = f"the analysis used more than {self.timeout_seconds:g} CPU-seconds"
            return BudgetExceeded(TIMEOUT_BUDGET, msg)
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return ScanFailed(
            f"the analysis process died ({how}: out of memory or killed) while reading the image"
        )

    def close(self) -> None:
        with self._lock:
            children, self._children = self._children, []
        for child in children:
            child.close()
