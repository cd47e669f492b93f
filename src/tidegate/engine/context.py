"""The narrow inputs a scan job runs on, and the one thing it hands back.

`pipeline` and `rescan` take a `ScanContext` instead of the `ScanEngine` that owns them, so
the engine's modules depend one way (runtime -> pipeline/rescan -> notify/findings/scans)
and each job can be run in a unit test over fakes of these inputs. A job returns a
`JobOutcome`: its final writes, which the runtime commits together with the job's
completion, so a job has one way out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Engine

from tidegate.engine.jobs import Job
from tidegate.events.model import Origin
from tidegate.registry.storage.base import BlobStore
from tidegate.scanner.match import AdvisoryLookup
from tidegate.scanner.model import Inventory
from tidegate.scanner.vulndb.store import VersionInfo

JobOutcome = Callable[[Connection], None]
"""A job's final writes; the runtime runs them in the transaction that completes the job."""


@dataclass(frozen=True, slots=True)
class JobHandler:
    """A kind of job whose code lives outside the engine (Inspector reports), wired in by
    the app so the engine never imports an API package."""

    run: Callable[[Job], JobOutcome]
    give_up: Callable[[Connection, Job, str], None]
    """Ends what the job was for when its attempts run out (`str`: why)."""


def nothing_to_write(conn: Connection) -> None:
    """The outcome of a job whose subject is gone (the image was deleted meanwhile)."""


class InventorySource(Protocol):
    """Turns a manifest into its inventory (the analyzer pool); `key` names its output."""

    @property
    def key(self) -> str: ...

    def analyze(self, manifest: bytes) -> Inventory: ...


class VulnDb(AdvisoryLookup, Protocol):
    """One open vulnerability-DB version, as a scan reads it (VulnStore implements it)."""

    @property
    def version(self) -> int: ...

    def has_namespace(self, namespace: str) -> bool: ...

    def version_info(self) -> VersionInfo: ...


class VersionedVulnDb(VulnDb, Protocol):
    """A DB version opened by number, as a re-scan reads it: with its change set."""

    def changes(self, since_version: int) -> set[tuple[str, str]]: ...

    def entries(self, namespace: str, name: str) -> list[list[Any]]: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ScanContext:
    """What scan and re-scan jobs may use, and nothing more."""

    db: Engine
    blobs: BlobStore
    analyzer: InventorySource
    vulns: Callable[[], VulnDb | None]
    """This thread's usable current DB version, or None (none, or every feed failed)."""
    open_vulndb: Callable[[int], VersionedVulnDb]
    """A DB version by number; raises `NoDatabase` when it is not kept."""
    origin: Origin
    clock: Callable[[], float]
    continuous_days: int
    """The configured continuous-scan window (0 = lifetime) unless one is stored."""


def vulndb_updated_at(store: VulnDb) -> float | None:
    """When the DB version was built (ECR's vulnerabilitySourceUpdatedAt)."""
    built = store.version_info().built_at
    try:
        return datetime.fromisoformat(built.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
