"""The dashboard: coverage, open findings by severity, the vulnerabilities in most images,
known exploited findings and open findings over time (each count writes today's snapshot)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import Response
from starlette.routing import Route

from tidegate.console import charts
from tidegate.console.views.repositories import image_path
from tidegate.console.web import Call, Console, view
from tidegate.engine import console_reads
from tidegate.engine.console_reads import Dashboard
from tidegate.scanner.severity import LOW_AND_ABOVE

HISTORY_DAYS = 30
TOP = 10
CHARTED = LOW_AND_ABOVE
KEY = "dashboard"


def count(console: Console) -> Dashboard:
    """The registry-wide figures, and today's snapshot of them (the chart's history)."""
    registry = console.registry
    figures = console_reads.dashboard(registry, top=TOP)
    now = registry.clock()
    today = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
    console_reads.record_snapshot(registry, today, figures.open_counts, now)
    return figures


def warm(console: Console) -> None:
    console.recent.warm(
        KEY, lambda: console_reads.findings_stamp(console.registry), lambda: count(console)
    )


def dashboard(call: Call) -> Response:
    call.require("ecr:DescribeRepositories", call.repository_arn("*"))
    call.require("ecr:DescribeImageScanFindings", call.repository_arn("*"))
    stamp = console_reads.findings_stamp(call.registry)
    computed = call.console.recent.get(KEY, stamp, lambda: count(call.console))
    if computed is None:
        return call.counting("Dashboard")
    figures = computed.value
    history = console_reads.snapshot_history(call.registry, days=HISTORY_DAYS)
    kev = [
        {**item, "path": image_path(item["repository"], item["imageDigest"])}
        for item in figures.known_exploited
    ]
    return call.render(
        "dashboard.html",
        title="Dashboard",
        coverage=figures.coverage,
        open_counts=figures.open_counts,
        total_open=sum(figures.open_counts.values()),
        top=figures.top,
        kev=kev,
        history=history,
        severity_chart=charts.bars(figures.open_counts, "Open findings by severity"),
        history_chart=charts.lines(history, CHARTED, "Open findings per day by severity"),
        charted=CHARTED,
        computed=computed,
    )


ROUTES = [Route("/dashboard", view(dashboard), methods=["GET"])]
