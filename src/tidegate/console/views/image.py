"""One image: layers and the findings each introduced, the findings table (sort, filters),
the inventory, and the exports (JSON, CSV, SARIF, CycloneDX, SPDX)."""

from __future__ import annotations

import csv
import io

from starlette.responses import Response
from starlette.routing import Route

from tidegate.console.views.repositories import image_path, repo_path, vulnerability_cell
from tidegate.console.web import SEVERITIES, Call, pages, view
from tidegate.engine import console_reads, image_report, policy
from tidegate.engine.image_report import FindingQuery, FindingRow
from tidegate.errors import InvalidParameter
from tidegate.registry import images
from tidegate.scanner.report.render import render as render_report

INVENTORY_PAGE = 50
EXPORTS = {
    "json": ("application/json", "json"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "sarif": ("application/sarif+json", "sarif.json"),
    "cyclonedx": ("application/vnd.cyclonedx+json", "cdx.json"),
    "spdx": ("application/spdx+json", "spdx.json"),
}


def _yes_no(call: Call, name: str) -> str | None:
    value = call.query.get(name, "").upper()
    if value and value not in ("YES", "NO"):
        raise InvalidParameter(f"{name} must be YES or NO, not {call.query.get(name)!r}")
    return value or None


def finding_query(call: Call) -> FindingQuery:
    severities = tuple(s for s in call.query.get("severity", "").upper().split(",") if s)
    for s in severities:
        if s not in SEVERITIES:
            raise InvalidParameter(f"severity must be one of {', '.join(SEVERITIES)}, not {s!r}")
    sort = call.query.get("sort", "severity")
    if sort not in image_report.FINDING_SORTS:
        allowed = ", ".join(image_report.FINDING_SORTS)
        raise InvalidParameter(f"sort must be one of {allowed}, not {sort!r}")
    order = call.query.get("order", "asc")
    if order not in ("asc", "desc"):
        raise InvalidParameter(f"order must be asc or desc, not {order!r}")
    return FindingQuery(
        severities=severities,
        fix_available=_yes_no(call, "fix"),
        exploit_available=_yes_no(call, "kev"),
        text=call.query.get("q", "").strip(),
        layer=call.query.get("layer") or None,
        sort=sort,
        descending=order == "desc",
    )


def image_page(call: Call) -> Response:
    name, digest = call.path_name(), call.path_digest()
    call.require("ecr:DescribeImages", call.repository_arn(name))
    call.require("ecr:DescribeImageScanFindings", call.repository_arn(name))
    number, size = call.page()
    q = finding_query(call)
    inv_number = call.positive("ipage")
    repo, row = images.resolve_one(call.registry, name, images.ImageRef(digest, None))
    detail = console_reads.image_detail(
        call.registry, repo, row, q, offset=(number - 1) * size, limit=size
    )
    scan, inventory, total = detail.scan, detail.inventory, detail.total
    frequency = policy.effective_scanning(
        detail.config, repo.name, repo.scan_on_push
    ).frequency.value
    packages = list(inventory.packages) if inventory else []
    start = (inv_number - 1) * INVENTORY_PAGE
    return call.render(
        "image.html",
        title=f"{name}@{digest[:19]}",
        repo=repo,
        row=row,
        tags=detail.tags,
        scan=scan,
        cell=vulnerability_cell(scan, frequency),
        layers=detail.layers,
        findings=detail.findings,
        total=total,
        number=number,
        total_pages=pages(total, number, size),
        q=q,
        path=image_path(name, row.digest),
        repo_path=repo_path(name),
        packages=packages[start : start + INVENTORY_PAGE],
        package_count=len(packages),
        inv_number=inv_number,
        inv_pages=pages(len(packages), inv_number, INVENTORY_PAGE),
        distro=inventory.distro if inventory else None,
        exports=list(EXPORTS),
    )


def _csv(rows: list[FindingRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "vulnerability_id",
            "package",
            "installed_version",
            "fixed_version",
            "severity",
            "vendor_severity",
            "cvss_score",
            "fix_available",
            "known_exploited",
            "layer",
            "path",
            "first_observed",
            "last_observed",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r.vuln_id,
                r.package_name,
                r.package_version,
                r.fixed_in,
                r.severity,
                r.vendor_severity,
                "" if r.score is None else r.score,
                r.fix_available,
                r.exploit_available,
                r.layer,
                r.file_path,
                r.first_observed_at,
                r.last_observed_at,
            ]
        )
    return out.getvalue()


def export(call: Call) -> Response:
    name, digest = call.path_name(), call.path_digest()
    fmt = str(call.request.path_params["fmt"])
    if fmt not in EXPORTS:
        raise InvalidParameter(f"format must be one of {', '.join(EXPORTS)}, not {fmt!r}")
    call.require("ecr:DescribeImageScanFindings", call.repository_arn(name))
    repo, row = images.resolve_one(call.registry, name, images.ImageRef(digest, None))
    if fmt == "csv":
        body = _csv(console_reads.image_findings(call.registry, repo, row))
    else:
        report = console_reads.image_scan_report(call.registry, repo, row, f"{name}@{row.digest}")
        body = render_report(report, fmt)
    media, suffix = EXPORTS[fmt]
    filename = f"{name.replace('/', '_')}-{row.digest[7:19]}.{suffix}"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


ROUTES = [
    Route("/repositories/{name:path}/images/{digest}/export/{fmt}", view(export), methods=["GET"]),
    Route("/repositories/{name:path}/images/{digest}", view(image_page), methods=["GET"]),
]
