"""`/api/` routes. Authentication is the registry's (Basic: access key or registry token)."""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tidegate.access import authorize
from tidegate.config import Settings
from tidegate.engine import aggregate, suppression, usage, vex
from tidegate.errors import InvalidParameter
from tidegate.events.model import Origin
from tidegate.inputs import ascii_decimal
from tidegate.registry.service import RegistryService
from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.model import FixState
from tidegate.states import FindingStatus
from tidegate.webapi.errors import handles_errors
from tidegate.webapi.errors import json_response as _json


def finding_filter(params: dict[str, str]) -> aggregate.FindingFilter:
    severities = tuple(s.strip().upper() for s in params.get("severity", "").split(",") if s)
    fix = params.get("fixAvailable") or None
    if fix is not None and fix.upper() not in ("YES", "NO"):
        raise InvalidParameter(f"fixAvailable must be YES or NO, not {fix!r}")
    states = tuple(s.strip().lower() for s in params.get("fixState", "").split(",") if s)
    known = {f.value for f in FixState}
    if any(s not in known for s in states):
        raise InvalidParameter(f"fixState must be among {', '.join(sorted(known))}")
    try:
        status, include_closed = aggregate.status_filter(params.get("status", FindingStatus.ACTIVE))
    except ValueError:
        raise InvalidParameter(
            f"status must be one of {', '.join(aggregate.STATUSES)}, not {params['status']!r}"
        ) from None
    return aggregate.FindingFilter(
        severities=severities,
        fix_available=fix,
        fix_states=states,
        text=params.get("q", ""),
        repository=params.get("repository") or None,
        include_closed=include_closed,
        status=status,
    )


DEFAULT_LIMIT = 1000


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    limit = ascii_decimal(value)
    if limit is None or limit < 1:
        raise InvalidParameter(f"limit must be a positive integer, not {value!r}")
    return limit


def _group(value: str) -> aggregate.GroupBy:
    try:
        return aggregate.GroupBy(value)
    except ValueError:
        options = ", ".join(g.value for g in aggregate.GroupBy)
        raise InvalidParameter(f"groupBy must be one of {options}, not {value!r}") from None


@handles_errors
async def findings(request: Request) -> Response:
    """GET /api/findings?groupBy=vulnerability|repository|image|layer|package&severity=...
    &fixState=fixed,not_fixed,wont_fix,deferred,end_of_life&status=ACTIVE|SUPPRESSED|CLOSED|ALL

    `suppressionRules` lists every Inspector filter with the open findings it matches now;
    `stale` ones match nothing any more."""
    await authorize(request, None, "pull")
    params = dict(request.query_params)
    group_by = _group(params.get("groupBy", "vulnerability"))
    flt = finding_filter(params)
    limit = _limit(params.get("limit"))
    registry: RegistryService = request.app.state.registry

    settings: Settings = request.app.state.settings
    origin = Origin(settings.registry_id, settings.region)
    groups = await run_in_threadpool(
        aggregate.aggregate_report, registry.engine, group_by, flt, limit=limit
    )
    rules = await run_in_threadpool(suppression.report_now, registry.engine, origin, time.time())
    return _json({"groupBy": group_by.value, "groups": groups,
                  "suppressionRules": [r.as_dict() for r in rules]})  # fmt: skip


@handles_errors
async def vex_statements(request: Request) -> Response:
    """GET /api/vex?repository=NAME[&imageDigest=sha256:...]: the VEX statements pushed for
    the repository's images (or for one image), each with the open findings it covers:
    not_affected and fixed ones suppress them, affected and under_investigation annotate."""
    params = request.query_params
    name = params.get("repository")
    if not name:
        raise InvalidParameter("repository is required")
    await authorize(request, name, "pull")
    registry: RegistryService = request.app.state.registry
    repo = await run_in_threadpool(registry.repository, name)
    rows = await run_in_threadpool(vex.report, registry.engine, repo.id,
                                   params.get("imageDigest"))  # fmt: skip
    return _json({"repository": name, "statements": rows})


@handles_errors
async def usage_report(request: Request) -> Response:
    """GET /api/usage?month=YYYY-MM&repository=NAME: enhanced scans priced per month."""
    await authorize(request, None, "pull")
    settings: Settings = request.app.state.settings
    registry: RegistryService = request.app.state.registry
    params = request.query_params
    document = await run_in_threadpool(
        usage.usage_report, registry.engine, settings,
        month=params.get("month"), repository=params.get("repository"),
    )  # fmt: skip
    return _json(document)


@handles_errors
async def status(request: Request) -> Response:
    """GET /api/status: vulnerability DB version and the scan queue."""
    await authorize(request, None, "pull")
    settings: Settings = request.app.state.settings
    engine = request.app.state.scan_engine
    counts = await run_in_threadpool(engine.queue.counts)
    return _json({"vulndbVersion": layout.current_version(settings.vulndb_dir), "jobs": counts})


_ENDPOINTS = {
    "/api/findings": findings,
    "/api/usage": usage_report,
    "/api/status": status,
    "/api/vex": vex_statements,
}


async def unknown(request: Request) -> Response:
    """Any other `/api/` path or method: the API's own error shape, never Starlette's text."""
    if request.url.path in _ENDPOINTS:
        body = {"error": f"{request.method} is not allowed here", "code": "method_not_allowed"}
        return _json(body, 405)
    return _json({"error": f"no such API path: {request.url.path}", "code": "not_found"}, 404)


ROUTES = [
    *(Route(path, endpoint, methods=["GET"]) for path, endpoint in _ENDPOINTS.items()),
    # Last: what no route above answers (Starlette tries routes in order).
    Route(
        "/api/{path:path}",
        unknown,
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    ),
]
