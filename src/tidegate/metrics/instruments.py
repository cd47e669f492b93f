"""The metrics each process updates as it works (summed over processes at scrape)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Where a router leaves the route template that answered (`/v2/{name}/manifests/{reference}`):
# names and digests would make a label value per repository and blob.
ROUTE_SCOPE_KEY = "tidegate.route"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
SCAN_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

REQUESTS = Counter(
    "tidegate_http_requests", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "tidegate_http_request_duration_seconds",
    "Time from request start to the end of the response body",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
BYTES_IN = Counter("tidegate_http_request_bytes", "Request body bytes received", ["route"])
BYTES_OUT = Counter("tidegate_http_response_bytes", "Response body bytes sent", ["route"])
SCANS = Counter(
    "tidegate_scan_jobs", "Scan and re-scan job attempts finished, by outcome", ["kind", "outcome"]
)
SCAN_SECONDS = Histogram(
    "tidegate_scan_duration_seconds",
    "Wall time of one scan job attempt (analyze, match, store)",
    ["outcome"],
    buckets=SCAN_BUCKETS,
)
RESCAN_SECONDS = Histogram(
    "tidegate_rescan_duration_seconds",
    "Wall time of one re-scan after a vulnerability DB change",
    ["outcome"],
    buckets=SCAN_BUCKETS,
)
RESCAN_IMAGES = Counter(
    "tidegate_rescan_images", "Images re-evaluated by re-scans after DB changes"
)


def job_finished(kind: str, outcome: str, seconds: float) -> None:
    """One scan or re-scan job attempt ended (`outcome`: completed | error)."""
    SCANS.labels(kind, outcome).inc()
    hist = RESCAN_SECONDS if kind == "rescan" else SCAN_SECONDS
    hist.labels(outcome).observe(seconds)
