"""Gauges read at scrape time from the shared state (database, vulnerability DB directory),
so every process answers the same figures whichever of them does the work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.db import reading
from tidegate.scanner.vulndb import layout


class StateCollector(Collector):
    def __init__(self, engine: Engine, vulndb_dir: Path) -> None:
        self.engine = engine
        self.vulndb_dir = vulndb_dir

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.time()
        jobs, uploads, deliveries = self._read(now)
        depth = GaugeMetricFamily(
            "tidegate_job_queue_depth", "Scan jobs waiting or running, by state", labels=["state"]
        )
        for state in ("queued", "running"):
            depth.add_metric([state], jobs.get(state, (0, None))[0])
        yield depth
        oldest = jobs.get("queued", (0, None))[1]
        yield GaugeMetricFamily(
            "tidegate_job_queue_oldest_age_seconds",
            "Age of the oldest queued scan job (0 when none waits)",
            value=max(0.0, now - oldest) if oldest is not None else 0.0,
        )
        yield GaugeMetricFamily(
            "tidegate_open_uploads", "Blob upload sessions started and not finished", value=uploads
        )
        backlog = GaugeMetricFamily(
            "tidegate_outbox_deliveries",
            "Webhook deliveries of the events outbox, by state (failed: retries exhausted)",
            labels=["state"],
        )
        for state in ("pending", "failed"):
            backlog.add_metric([state], deliveries.get(state, 0))
        yield backlog
        yield GaugeMetricFamily(
            "tidegate_webhook_failures",
            "Webhook deliveries that failed for good (retries exhausted)",
            value=deliveries.get("failed", 0),
        )
        age = self._vulndb_age(now)
        if age is not None:
            yield GaugeMetricFamily(
                "tidegate_vulndb_age_seconds",
                "Time since the current vulnerability DB version was published",
                value=age,
            )

    def _read(self, now: float) -> tuple[dict[str, tuple[int, float | None]], int, dict[str, int]]:
        j, d = t.scan_jobs, t.webhook_deliveries
        with reading(self.engine) as conn:
            jobs = {
                state: (int(count), oldest)
                for state, count, oldest in conn.execute(
                    sa.select(j.c.state, sa.func.count(), sa.func.min(j.c.created_at))
                    .where(j.c.state.in_(["queued", "running"]))
                    .group_by(j.c.state)
                )
            }
            uploads = int(
                conn.execute(sa.select(sa.func.count()).select_from(t.uploads)).scalar_one()
            )
            deliveries = {
                state: int(count)
                for state, count in conn.execute(
                    sa.select(d.c.state, sa.func.count())
                    .where(d.c.state.in_(["pending", "failed"]))
                    .group_by(d.c.state)
                )
            }
        return jobs, uploads, deliveries

    def _vulndb_age(self, now: float) -> float | None:
        version = layout.current_version(self.vulndb_dir)
        if version is None:
            return None
        try:
            published = layout.version_path(self.vulndb_dir, version).stat().st_mtime
        except FileNotFoundError:
            return None
        return max(0.0, now - published)
