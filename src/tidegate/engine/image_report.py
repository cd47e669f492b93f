"""Read models for one image's console page: layers with the history line that made each
and the findings it introduced, a sortable filtered findings table, the stored inventory,
and a ScanReport of the stored findings for the JSON/CSV/SARIF/SBOM exports."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.engine import vex
from tidegate.engine.findings_view import SEVERITY_ORDER
from tidegate.engine.inventories import decode_inventory
from tidegate.inputs import load_json
from tidegate.registry import metadata
from tidegate.registry.metadata import ManifestRow, RepoRow
from tidegate.registry.service import RegistryService
from tidegate.scanner.inventory import ImageInventory
from tidegate.scanner.model import Inventory, Package, PackageManager
from tidegate.scanner.report.findings import advisory_url
from tidegate.scanner.report.model import Finding, ScanReport
from tidegate.scanner.severity import Severity
from tidegate.states import FindingStatus

FINDING_SORTS = ("severity", "vulnerability", "package", "cvss", "first_observed")
MAX_CONFIG_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LayerInfo:
    digest: str
    size: int
    media_type: str
    created_by: str  # the history line that made it ("" when the config has none)
    findings: dict[str, int]  # open findings this layer introduced, per severity


@dataclass(frozen=True, slots=True)
class FindingRow:
    vuln_id: str
    package_name: str
    package_version: str
    package_manager: str
    file_path: str
    layer: str
    severity: str
    vendor_severity: str
    score: float | None
    cvss_vector: str
    fixed_in: str
    fix_available: str
    exploit_available: str
    first_observed_at: float
    last_observed_at: float
    title: str
    url: str
    vex: tuple[vex.AppliedStatement, ...] = ()  # the VEX statements that apply to it


@dataclass(frozen=True, slots=True)
class FindingQuery:
    severities: tuple[str, ...] = ()
    fix_available: str | None = None
    exploit_available: str | None = None
    text: str = ""
    layer: str | None = None
    sort: str = "severity"
    descending: bool = False


def _history(registry: RegistryService, repo: RepoRow, row: ManifestRow) -> list[str]:
    """`created_by` of every history entry that made a layer, bottom first."""
    if not row.config_digest:
        return []
    try:
        _digest, size, stream = registry.open_blob(repo.name, row.config_digest)
    except Exception:  # a missing or unreadable config leaves the column empty
        return []
    if size > MAX_CONFIG_BYTES:
        stream.close()
        return []
    with stream:
        try:
            config = load_json(stream.read())
        except ValueError:
            return []
    history = config.get("history") if isinstance(config, dict) else None
    if not isinstance(history, list):
        return []
    return [
        str(h.get("created_by", ""))
        for h in history
        if isinstance(h, dict) and not h.get("empty_layer")
    ]


def layers(
    conn: Connection, registry: RegistryService, repo: RepoRow, row: ManifestRow
) -> list[LayerInfo]:
    """The image's layers, bottom first."""
    refs = [r for r in metadata.manifest_refs(conn, row.id) if r["kind"] == "layer"]
    f = t.findings
    per_layer: dict[str, Counter[str]] = {}
    query = (
        sa.select(f.c.layer, f.c.severity, sa.func.count())
        .where(
            f.c.repository_id == repo.id,
            f.c.digest == row.digest,
            f.c.status == FindingStatus.ACTIVE,
        )
        .group_by(f.c.layer, f.c.severity)
    )
    for layer, sev, n in conn.execute(query):
        per_layer.setdefault(str(layer), Counter())[str(sev)] = int(n)
    history = _history(registry, repo, row)
    out = []
    for i, ref in enumerate(refs):
        counts = per_layer.get(str(ref["digest"]), Counter())
        out.append(
            LayerInfo(
                str(ref["digest"]),
                int(ref["size"]),
                str(ref["media_type"]),
                history[i] if i < len(history) else "",
                {str(s): counts[s] for s in SEVERITY_ORDER if counts[s]},
            )
        )
    return out


def _severity_rank() -> sa.ColumnElement[int]:
    return sa.case(
        *[(t.findings.c.severity == s, i) for i, s in enumerate(SEVERITY_ORDER)],
        else_=len(SEVERITY_ORDER),
    )


def _where(repo_id: int, digest: str, q: FindingQuery) -> list[sa.ColumnElement[bool]]:
    f = t.findings
    where = [f.c.repository_id == repo_id, f.c.digest == digest, f.c.status == FindingStatus.ACTIVE]
    if q.severities:
        where.append(f.c.severity.in_(q.severities))
    if q.fix_available:
        where.append(f.c.fix_available == q.fix_available)
    if q.exploit_available:
        where.append(f.c.exploit_available == q.exploit_available)
    if q.layer:
        where.append(f.c.layer == q.layer)
    if q.text:
        where.append(
            sa.or_(
                f.c.vuln_id.contains(q.text, autoescape=True),
                f.c.package_name.contains(q.text, autoescape=True),
            )
        )
    return where


def _order(q: FindingQuery) -> list[sa.ColumnElement[Any]]:
    f = t.findings
    columns: dict[str, sa.ColumnElement[Any]] = {
        "severity": _severity_rank(),
        "vulnerability": f.c.vuln_id,
        "package": f.c.package_name,
        "cvss": sa.func.coalesce(f.c.score, -1.0),
        "first_observed": f.c.first_observed_at,
    }
    first = columns[q.sort]
    return [first.desc() if q.descending else first.asc(), f.c.vuln_id, f.c.id]


def _finding_row(m: sa.RowMapping, statements: list[vex.AppliedStatement]) -> FindingRow:
    details = json.loads(m["details"] or "{}")
    vectors = [c for c in details.get("cvss", []) if c.get("vector")]
    return FindingRow(
        vuln_id=m["vuln_id"],
        package_name=m["package_name"],
        package_version=m["package_version"],
        package_manager=m["package_manager"],
        file_path=m["file_path"],
        layer=m["layer"],
        severity=m["severity"],
        vendor_severity=str(details.get("vendor_severity", "")),
        score=m["score"],
        cvss_vector=str(vectors[0]["vector"]) if vectors else "",
        fixed_in=m["fixed_in"],
        fix_available=m["fix_available"],
        exploit_available=m["exploit_available"],
        first_observed_at=m["first_observed_at"],
        last_observed_at=m["last_observed_at"],
        title=str(details.get("title", "")),
        url=advisory_url(m["vuln_id"]),
        vex=tuple(statements),
    )


def finding_page(
    conn: Connection, repo_id: int, digest: str, q: FindingQuery, *, offset: int, limit: int
) -> tuple[list[FindingRow], int]:
    """One page of the image's open findings (each with the VEX statements that apply) and
    how many match in all."""
    f, d = t.findings, t.finding_details
    where = _where(repo_id, digest, q)
    ids = list(
        conn.execute(
            sa.select(f.c.id).where(*where).order_by(*_order(q)).offset(offset).limit(limit)
        ).scalars()
    )
    total = int(conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one())
    if not ids:
        return [], total
    rows = {
        m["id"]: m
        for m in conn.execute(
            sa.select(f, d.c.details).join(d, d.c.id == f.c.details_id).where(f.c.id.in_(ids))
        ).mappings()
    }
    applied = vex.applying(conn, ids)
    return [_finding_row(rows[i], applied.get(i, [])) for i in ids if i in rows], total


def all_findings(conn: Connection, repo_id: int, digest: str) -> list[FindingRow]:
    """Every open finding of the image, worst first (exports)."""
    rows, _total = finding_page(conn, repo_id, digest, FindingQuery(), offset=0, limit=100_000)
    return rows


def stored_inventory(conn: Connection, digest: str) -> Inventory | None:
    """The inventory the last scan analyzed, whichever analyzer version made it."""
    blob = conn.execute(
        sa.select(t.image_inventories.c.inventory).where(t.image_inventories.c.digest == digest)
    ).scalar()
    return None if blob is None else decode_inventory(blob)


def _severity(name: str) -> Severity:
    try:
        return Severity.parse(name)
    except ValueError:
        return Severity.UNDEFINED


def scan_report(conn: Connection, repo: RepoRow, row: ManifestRow, reference: str) -> ScanReport:
    """The stored inventory and open findings of one image as a renderable ScanReport."""
    inventory = stored_inventory(conn, row.digest) or Inventory(None, ())
    findings = []
    for fr in all_findings(conn, repo.id, row.digest):
        try:
            manager = PackageManager(fr.package_manager)
        except ValueError:
            manager = PackageManager.OS
        package = Package(
            fr.package_name, fr.package_version, "", manager, path=fr.file_path, layer=fr.layer
        )
        findings.append(
            Finding(
                fr.vuln_id,
                _severity(fr.severity),
                package,
                row.digest,
                fr.fixed_in,
                fr.title,
                fr.url,
            )
        )
    image = ImageInventory(reference, row.digest, inventory)
    return ScanReport(images=(image,), findings=tuple(findings))
