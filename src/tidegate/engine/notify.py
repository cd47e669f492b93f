"""Events a scan produces, written to the outbox in the scan's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import orjson
from sqlalchemy.engine import Connection

from tidegate.engine.finding_shapes import (
    ImageContext,
    inspector_dynamic_part,
    inspector_resources,
    static_part,
)
from tidegate.engine.findings import FindingChanges
from tidegate.engine.policy import ScanningConfiguration, effective_scanning
from tidegate.events import model
from tidegate.events.inspector import to_inspector_finding
from tidegate.events.outbox import emit, emit_many
from tidegate.registry import metadata
from tidegate.registry.metadata import ManifestRow, RepoRow
from tidegate.states import ScanStatus, ScanType

CHANGES_PER_EVENT = 100  # repositories in one `ECR Scan Resource Change`: events stay small


def image_context(
    conn: Connection, repo: RepoRow, row: ManifestRow, tags: list[str] | None = None
) -> ImageContext:
    """The image as findings name it; `tags` when the caller has them (or they are gone)."""
    stored = metadata.tags_of(conn, row.id) if tags is None else tags
    return ImageContext(repo.name, row.digest, stored, row.pushed_at)


def finding_events(
    origin: model.Origin,
    conn: Connection,
    repo: RepoRow,
    row: ManifestRow,
    changes: FindingChanges,
    *,
    tags: list[str] | None = None,
) -> int:
    """One `Inspector2 Finding` per new, changed or closed finding; returns how many.

    `tags`, when given, are the image's tags (read already, or a deleted image's last ones).
    """
    events = _finding_events(origin, repo, row, image_context(conn, repo, row, tags), changes)
    emit_many(conn, events)
    return len(events)


class ImageRow(Protocol):
    """What finding events need of a manifest row (ManifestRow has it, and more)."""

    @property
    def id(self) -> int: ...
    @property
    def digest(self) -> str: ...
    @property
    def pushed_at(self) -> float: ...


def finding_events_many(
    origin: model.Origin,
    conn: Connection,
    changed: Sequence[tuple[RepoRow, ImageRow, FindingChanges]],
) -> int:
    """Finding events for many images with their tags read in one query."""
    tags = metadata.tags_of_many(conn, [row.id for _repo, row, _c in changed])
    statics: Statics = {}
    events = [
        event
        for repo, row, changes in changed
        for event in _finding_events(
            origin, repo, row, ImageContext(repo.name, row.digest, tags[row.id], row.pushed_at),
            changes, statics,
        )
    ]  # fmt: skip
    emit_many(conn, events)
    return len(events)


Statics = dict[str, dict[str, Any]]  # finding_details id -> Inspector-spelled static part


def _static(finding: dict[str, object], statics: Statics) -> dict[str, Any]:
    # One re-scan reports the same new vulnerability in thousands of images: render and
    # convert the image-independent part once per content, not once per event.
    key = str(finding.get("details_id") or "")
    static = statics.get(key) if key else None
    if static is None:
        shape = finding.get("shape")
        static = to_inspector_finding(orjson.loads(str(shape)) if shape else static_part(finding))
        if key:
            statics[key] = static
    return static


def _finding_events(
    origin: model.Origin,
    repo: RepoRow,
    row: ImageRow,
    image: ImageContext,
    changes: FindingChanges,
    statics: Statics | None = None,
) -> list[model.Event]:
    # to_inspector_finding converts member by member, so converting the image-independent
    # part once and the image's own members per event gives the same finding.
    shared: Statics = {} if statics is None else statics
    resources = inspector_resources(origin, image)
    events = []
    for changed in (*changes.new, *changes.changed, *changes.closed):
        dynamic = inspector_dynamic_part(changed, origin, resources)
        events.append(
            model.inspector_finding(
                origin, {**dynamic, **_static(changed, shared)},
                repository_name=repo.name, image_digest=row.digest, converted=True,
            )
        )  # fmt: skip
    return events


def scan_completed(
    origin: model.Origin,
    conn: Connection,
    repo: RepoRow,
    row: ManifestRow,
    scan_type: ScanType,
    counts: dict[str, int],
    changes: FindingChanges,
    *,
    initial: bool,
) -> None:
    tags = metadata.tags_of(conn, row.id)
    if scan_type == ScanType.BASIC:
        emit(conn, model.image_scan(origin, repository_name=repo.name, image_digest=row.digest,
                                    image_tags=tags, severity_counts=counts))  # fmt: skip
        return
    if initial:
        emit(conn, model.inspector_scan(origin, repository_name=repo.name,
                                        image_digest=row.digest, image_tags=tags,
                                        severity_counts=counts))  # fmt: skip
    finding_events(origin, conn, repo, row, changes, tags=tags)


def basic_scan_failed(
    origin: model.Origin, conn: Connection, repo: RepoRow, row: ManifestRow
) -> None:
    emit(conn, model.image_scan(origin, repository_name=repo.name, image_digest=row.digest,
                                image_tags=metadata.tags_of(conn, row.id), severity_counts={},
                                scan_status=ScanStatus.FAILED))  # fmt: skip


def scanning_changed(
    origin: model.Origin,
    conn: Connection,
    before: ScanningConfiguration,
    after: ScanningConfiguration,
) -> None:
    """`ECR Scan Resource Change` events when a registry configuration under ENHANCED moves
    repositories to another scan frequency (each names the new and the previous one)."""
    if after.scan_type != ScanType.ENHANCED:
        return
    changes = []
    for repo in metadata.list_repos(conn, after=None, limit=None):
        old = effective_scanning(before, repo.name, repo.scan_on_push).frequency
        new = effective_scanning(after, repo.name, repo.scan_on_push).frequency
        if old != new:
            changes.append(model.RepositoryScanChange(repo.name, new, old))
    emit_many(
        conn,
        [
            model.scan_resource_change(origin, repositories=changes[i : i + CHANGES_PER_EVENT])
            for i in range(0, len(changes), CHANGES_PER_EVENT)
        ],
    )
