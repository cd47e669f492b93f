"""Fakes of a scan job's narrow inputs (engine.context), over a real migrated SQLite DB."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.db import create_engine, migrate
from tidegate.engine.context import ScanContext, VersionedVulnDb
from tidegate.engine.jobs import Job
from tidegate.events.model import Origin
from tidegate.oci import mediatypes
from tidegate.oci.digest import Digest
from tidegate.registry.storage.filesystem import FilesystemBlobStore
from tidegate.scanner.model import Inventory, Package, PackageManager
from tidegate.scanner.severity import Severity
from tidegate.scanner.versions.base import AffectedRange, RangeEvent
from tidegate.scanner.vulndb.codec import entry_row
from tidegate.scanner.vulndb.entries import PackageEntries
from tidegate.scanner.vulndb.model import Advisory, AffectedPackage, FixState
from tidegate.scanner.vulndb.store import NoDatabase, VersionInfo
from tidegate.states import JobKind, ScanType

NOW = 1_700_000_000.0
LODASH = Package("lodash", "4.17.0", "npm", PackageManager.NPM, path="app/package-lock.json")


def advisory(vid: str, name: str, fixed: str) -> Advisory:
    """A GHSA-style npm advisory affecting `name` below `fixed`."""
    ranges = (AffectedRange("SEMVER", (RangeEvent(introduced="0"), RangeEvent(fixed=fixed))),)
    return Advisory(
        id=vid, source="ghsa", aliases=(f"CVE-2024-{vid[-4:]}",), summary=f"{vid} in {name}",
        affected=(AffectedPackage("npm", name, ranges, fix=FixState.FIXED, fixed_version=fixed),),
        severity=Severity.HIGH, score=7.5,
    )  # fmt: skip


@dataclass
class FakeVulnDb:
    """A DB version held in memory: advisories by id, and the keys it changed since each
    older version."""

    version: int
    advisories: Sequence[Advisory] = ()
    changed_since: dict[int, set[tuple[str, str]]] = field(default_factory=dict)
    closed: bool = False

    def _of(self, namespace: str, name: str) -> list[Advisory]:
        return [
            a for a in self.advisories
            if any((p.namespace, p.name) == (namespace, name) for p in a.affected)
        ]  # fmt: skip

    def package(self, namespace: str, name: str) -> PackageEntries:
        return PackageEntries.of(namespace, name, self._of(namespace, name))

    def entries(self, namespace: str, name: str) -> list[list[Any]]:
        return [
            entry_row(a, p)
            for a in self._of(namespace, name)
            for p in a.affected
            if (p.namespace, p.name) == (namespace, name)
        ]

    def header(self, vuln_id: str, aliases: object = ()) -> Advisory | None:
        return next((a for a in self.advisories if a.id == vuln_id), None)

    def has_namespace(self, namespace: str) -> bool:
        return any(p.namespace == namespace for a in self.advisories for p in a.affected)

    def version_info(self) -> VersionInfo:
        return VersionInfo(self.version, None, "2024-05-01T00:00:00Z", Path("."), ())

    def changes(self, since_version: int) -> set[tuple[str, str]]:
        return self.changed_since[since_version]

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeAnalyzer:
    """Answers every manifest with one inventory, and counts the calls."""

    inventory: Inventory
    key: str = "fake-analyzer-1"
    calls: int = 0

    def analyze(self, manifest: bytes) -> Inventory:
        self.calls += 1
        return self.inventory


def metadata_db(tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(t.repositories).values(id=1, name="app", created_at=0))
    return engine


def push_image(
    db: Engine, blobs: FilesystemBlobStore, *, media_type: str = mediatypes.OCI_MANIFEST
) -> str:
    """Store an image manifest (blob and row) and its requested scan; returns the digest."""
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": media_type,
         "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": "sha256:" + "c" * 64,
                    "size": 2}, "layers": []}
    ).encode()  # fmt: skip
    digest = Digest("sha256:" + "a" * 64)
    blobs.put(digest, manifest)
    with db.begin() as conn:
        conn.execute(sa.insert(t.manifests).values(
            repository_id=1, digest=digest, media_type=media_type, size=len(manifest),
            image_size=1, config_digest="sha256:" + "c" * 64, pushed_at=NOW - 60))  # fmt: skip
    return digest


def request(db: Engine, digest: str, scan_type: ScanType, frequency: str) -> Job:
    """A PENDING scan of the image (replacing any earlier one) and the job that runs it."""
    with db.begin() as conn:
        conn.execute(sa.delete(t.image_scans).where(t.image_scans.c.digest == digest))
        conn.execute(sa.insert(t.image_scans).values(
            repository_id=1, digest=digest, scan_type=scan_type, status="PENDING",
            description="", requested_at=NOW - 30, frequency=frequency))  # fmt: skip
    return Job(1, JobKind.SCAN, 1, digest, scan_type, "push", 1, 5, {}, "test")


def context(
    db: Engine,
    blobs: FilesystemBlobStore,
    analyzer: FakeAnalyzer,
    versions: Sequence[FakeVulnDb],
    current: Callable[[], FakeVulnDb | None] | None = None,
) -> ScanContext:
    by_version = {v.version: v for v in versions}

    def open_vulndb(version: int) -> VersionedVulnDb:
        if version not in by_version:
            raise NoDatabase(f"version {version} is not kept")
        return by_version[version]

    latest = max(versions, key=lambda v: v.version) if versions else None
    return ScanContext(
        db=db, blobs=blobs, analyzer=analyzer,
        vulns=current if current is not None else (lambda: latest),
        open_vulndb=open_vulndb, origin=Origin("123456789012", "us-east-1", clock=lambda: NOW),
        clock=lambda: NOW, continuous_days=0,
    )  # fmt: skip


def scan_row(db: Engine, digest: str) -> dict[str, Any]:
    with db.connect() as conn:
        row = conn.execute(sa.select(t.image_scans).where(t.image_scans.c.digest == digest))
        return dict(row.one()._mapping)


def finding_ids(db: Engine, digest: str) -> list[tuple[str, str]]:
    f = t.findings
    with db.connect() as conn:
        rows = conn.execute(sa.select(f.c.vuln_id, f.c.status).where(f.c.digest == digest))
        return sorted((str(v), str(s)) for v, s in rows)


def event_types(db: Engine) -> list[str]:
    with db.connect() as conn:
        rows = conn.execute(sa.select(t.events_outbox.c.detail_type).order_by(t.events_outbox.c.id))
        return [str(d) for (d,) in rows]
