"""Run image analysis in worker processes: CPU-bound work off the server's event loop and GIL,
and a hostile layer that exhausts memory kills a child, not the server."""

from __future__ import annotations

import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tidegate.errors import TidegateError
from tidegate.oci.digest import Digest
from tidegate.registry.storage.filesystem import FilesystemBlobStore
from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.inventory import analyze_image, default_analyzers
from tidegate.scanner.model import Inventory
from tidegate.scanner.sources.layout import BlobStoreSource


def analyzer_key() -> str:
    """Names and versions of every analyzer: a stored inventory is reused only if it matches."""
    return ",".join(f"{a.name}@{a.version}" for a in default_analyzers())


def _analyze(blob_root: str, manifest: bytes, cache_dir: str) -> tuple[str, Inventory | str]:
    store = FilesystemBlobStore(Path(blob_root))

    def open_blob(digest: str):  # type: ignore[no-untyped-def]
        return store.open(Digest(digest))

    def open_manifest(digest: str) -> bytes:
        with store.open(Digest(digest)) as fh:
            return fh.read()

    source = BlobStoreSource(manifest, open_blob, open_manifest=open_manifest)
    try:
        with tempfile.TemporaryDirectory(prefix="tidegate-scratch-") as scratch:
            results = analyze_image(source, cache_dir=Path(cache_dir), scratch_dir=Path(scratch))
    except ScanFailed as exc:
        return "failed", exc.message
    except TidegateError as exc:
        return "failed", exc.message
    if not results:
        return "failed", "the manifest names no image to analyze"
    return "ok", results[0].inventory


class Analyzer:
    """A small process pool that analyzes images from the filesystem blob store."""

    def __init__(self, blob_root: Path, cache_dir: Path, processes: int) -> None:
        self.blob_root = blob_root
        self.cache_dir = cache_dir
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.processes = max(1, processes)
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: the server has threads and open sockets that a fork would copy.
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.processes, mp_context=ctx)
        return self._pool

    def analyze(self, manifest: bytes) -> Inventory:
        """The inventory of a single-platform image manifest; raises ScanFailed."""
        try:
            future = self._executor().submit(
                _analyze, str(self.blob_root), manifest, str(self.cache_dir)
            )
            status, value = future.result()
        except BrokenProcessPool as exc:
            self._pool = None
            msg = "the analysis process died (out of memory or killed) while reading the image"
            raise ScanFailed(msg) from exc
        if status != "ok" or not isinstance(value, Inventory):
            raise ScanFailed(str(value))
        return value

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
