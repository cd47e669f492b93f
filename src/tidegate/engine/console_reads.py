"""What the console's pages read and write, one function per page part, each in its own
transaction: the console package holds no connection and no SQL (DESIGN's API rule), and
these are the service functions it calls instead. The queries themselves live in the read
models (`overview`, `finding_groups`, `image_report`, `usage_pages`, `policy`, `events`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tidegate.db import reading
from tidegate.engine import finding_groups, image_report, overview, policy, usage_pages
from tidegate.engine.aggregate import FindingFilter, GroupBy
from tidegate.engine.finding_groups import GroupRow
from tidegate.engine.image_report import FindingQuery, FindingRow, LayerInfo
from tidegate.engine.policy import ScanningConfiguration
from tidegate.errors import NotFound
from tidegate.events import deliveries, outbox
from tidegate.events.deliveries import Delivery
from tidegate.events.outbox import StoredEvent
from tidegate.registry import metadata
from tidegate.registry.image_scans import ScanState, scan_of
from tidegate.registry.metadata import ManifestRow, RepoRow
from tidegate.registry.service import RegistryService
from tidegate.scanner.model import Inventory
from tidegate.scanner.report.model import ScanReport


@dataclass(frozen=True, slots=True)
class Dashboard:
    coverage: overview.Coverage
    open_counts: dict[str, int]
    top: list[dict[str, Any]]
    known_exploited: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ImageDetail:
    scan: ScanState | None
    config: ScanningConfiguration
    tags: list[str]
    layers: list[LayerInfo]
    findings: list[FindingRow]
    total: int
    inventory: Inventory | None


def findings_stamp(registry: RegistryService) -> tuple[object, ...]:
    """Moves whenever open findings can have changed (`overview.findings_stamp`)."""
    with reading(registry.engine) as conn:
        return overview.findings_stamp(conn)


def scanning_configuration(registry: RegistryService) -> ScanningConfiguration:
    with reading(registry.engine) as conn:
        return policy.load_configuration(conn)


def dashboard(registry: RegistryService, *, top: int) -> Dashboard:
    """The dashboard's registry-wide figures (reads the findings table: seconds at 1M)."""
    with reading(registry.engine) as conn:
        return Dashboard(
            overview.coverage(conn),
            overview.open_by_severity(conn),
            overview.top_vulnerabilities(conn, limit=top),
            overview.known_exploited(conn, limit=top),
        )


def record_snapshot(
    registry: RegistryService, day: str, counts: dict[str, int], now: float
) -> None:
    """Rewrite today's open-findings snapshot (the chart's history)."""
    with registry.engine.begin() as conn:
        overview.record_snapshot(conn, day, counts, now)


def snapshot_history(registry: RegistryService, *, days: int) -> dict[str, dict[str, int]]:
    with reading(registry.engine) as conn:
        return overview.snapshot_history(conn, days=days)


def finding_groups_page(
    registry: RegistryService, group_by: GroupBy, flt: FindingFilter, *, offset: int, limit: int
) -> tuple[list[GroupRow], bool]:
    with reading(registry.engine) as conn:
        return finding_groups.group_page(conn, group_by, flt, offset=offset, limit=limit)


def image_detail(
    registry: RegistryService,
    repo: RepoRow,
    row: ManifestRow,
    q: FindingQuery,
    *,
    offset: int,
    limit: int,
) -> ImageDetail:
    """Everything one image's page shows, read in one transaction (consistent together)."""
    with reading(registry.engine) as conn:
        findings, total = image_report.finding_page(
            conn, repo.id, row.digest, q, offset=offset, limit=limit
        )
        return ImageDetail(
            scan=scan_of(conn, repo.id, row.digest),
            config=policy.load_configuration(conn),
            tags=metadata.tags_of(conn, row.id),
            layers=image_report.layers(conn, registry, repo, row),
            findings=findings,
            total=total,
            inventory=image_report.stored_inventory(conn, row.digest),
        )


def image_findings(registry: RegistryService, repo: RepoRow, row: ManifestRow) -> list[FindingRow]:
    """Every open finding of one image, worst first (the CSV export)."""
    with reading(registry.engine) as conn:
        return image_report.all_findings(conn, repo.id, row.digest)


def image_scan_report(
    registry: RegistryService, repo: RepoRow, row: ManifestRow, reference: str
) -> ScanReport:
    """The stored inventory and open findings as a ScanReport (JSON, SARIF, SBOM exports)."""
    with reading(registry.engine) as conn:
        return image_report.scan_report(conn, repo, row, reference)


def repository_page(
    registry: RegistryService, *, text: str, sort: str, descending: bool, offset: int, limit: int
) -> tuple[list[overview.RepositorySummary], int, ScanningConfiguration]:
    """One page of repository summaries, how many match, and the configuration to read
    each one's effective scan frequency from."""
    with reading(registry.engine) as conn:
        found, total = overview.repository_page(
            conn, text=text, sort=sort, descending=descending, offset=offset, limit=limit
        )
        return found, total, policy.load_configuration(conn)


def repository_flags(registry: RegistryService, *, limit: int) -> list[tuple[str, bool]]:
    with reading(registry.engine) as conn:
        return overview.repository_flags(conn, limit=limit)


def usage_page(
    registry: RegistryService,
    *,
    month: str | None,
    repository: str | None,
    rates: tuple[float, float],
    offset: int,
    limit: int,
) -> usage_pages.UsagePage:
    with reading(registry.engine) as conn:
        return usage_pages.usage_page(
            conn, month=month, repository=repository, rates=rates, offset=offset, limit=limit
        )


def recent_events(
    registry: RegistryService,
    *,
    limit: int,
    before_event: int | None,
    before_delivery: int | None,
) -> tuple[list[StoredEvent], list[Delivery]]:
    """The newest outbox events and webhook deliveries (older than the given row ids)."""
    with reading(registry.engine) as conn:
        return (
            outbox.list_events(conn, limit=limit, before_id=before_event),
            deliveries.list_deliveries(conn, limit=limit, before_id=before_delivery),
        )


def redeliver(
    registry: RegistryService,
    event_id: str,
    endpoints: Callable[[StoredEvent], Iterable[str]],
    now: float,
) -> int:
    """Queue the event again to each endpoint that wants it; NotFound for an unknown id."""
    with registry.engine.begin() as conn:
        event = outbox.find_event(conn, event_id)
        if event is None:
            raise NotFound(f"no event with id {event_id!r}")
        return deliveries.redeliver(conn, event.event_id, endpoints(event), now)


def last_rescan(registry: RegistryService) -> dict[str, Any] | None:
    with reading(registry.engine) as conn:
        return overview.last_rescan(conn)
