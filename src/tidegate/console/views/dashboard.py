"""The dashboard: coverage, open findings by severity, the vulnerabilities in most images,
known exploited findings and open findings over time (today's snapshot is written here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from tidegate.console import charts
from tidegate.console.views.repositories import image_path
from tidegate.console.web import Call, view
from tidegate.db import reading
from tidegate.engine import overview

HISTORY_DAYS = 30
TOP = 10
CHARTED = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


def dashboard(call: Call) -> Response:
    call.require("ecr:DescribeRepositories", call.repository_arn("*"))
    call.require("ecr:DescribeImageScanFindings", call.repository_arn("*"))
    now = call.registry.clock()
    today = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")

    def compute() -> tuple[overview.Coverage, dict[str, int], list[Any], list[Any]]:
        with reading(call.registry.engine) as conn:
            return (
                overview.coverage(conn),
                overview.open_by_severity(conn),
                overview.top_vulnerabilities(conn, limit=TOP),
                overview.known_exploited(conn, limit=TOP),
            )

    with reading(call.registry.engine) as conn:
        stamp = overview.findings_stamp(conn)
    computed = call.console.recent.get("dashboard", stamp, compute)
    coverage, open_counts, top, kev = computed.value
    kev = [dict(item) for item in kev]
    with call.registry.engine.begin() as conn:
        if not computed.cached:
            overview.record_snapshot(conn, today, open_counts, now)
        history = overview.snapshot_history(conn, days=HISTORY_DAYS)
    for item in kev:
        item["path"] = image_path(item["repository"], item["imageDigest"])
    return call.render(
        "dashboard.html",
        title="Dashboard",
        coverage=coverage,
        open_counts=open_counts,
        total_open=sum(open_counts.values()),
        top=top,
        kev=kev,
        history=history,
        severity_chart=charts.bars(open_counts, "Open findings by severity"),
        history_chart=charts.lines(history, CHARTED, "Open findings per day by severity"),
        charted=CHARTED,
        computed_at=computed.at,
    )


ROUTES = [Route("/dashboard", view(dashboard), methods=["GET"])]
