"""`/api/` routes. Authentication is the registry's (Basic: access key or registry token)."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tidegate.config import Settings
from tidegate.db import reading
from tidegate.engine import aggregate, usage
from tidegate.errors import ErrorCode, InvalidParameter, TidegateError
from tidegate.inputs import ascii_decimal
from tidegate.registry.api.common import authorize
from tidegate.registry.api.errors import OCI_ERRORS
from tidegate.registry.service import RegistryService
from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.model import FixState


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body, sort_keys=True), status, media_type="application/json")


def _error(exc: TidegateError) -> Response:
    _code, status = OCI_ERRORS[exc.code]
    if exc.code is ErrorCode.STORAGE:
        return _json({"error": "internal error"}, 500)
    response = _json({"error": exc.message, "code": exc.code.value}, status)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def finding_filter(params: dict[str, str]) -> aggregate.FindingFilter:
    severities = tuple(s.strip().upper() for s in params.get("severity", "").split(",") if s)
    fix = params.get("fixAvailable") or None
    if fix is not None and fix.upper() not in ("YES", "NO"):
        raise InvalidParameter(f"fixAvailable must be YES or NO, not {fix!r}")
    states = tuple(s.strip().lower() for s in params.get("fixState", "").split(",") if s)
    known = {f.value for f in FixState}
    if any(s not in known for s in states):
        raise InvalidParameter(f"fixState must be among {', '.join(sorted(known))}")
    return aggregate.FindingFilter(
        severities=severities,
        fix_available=fix,
        fix_states=states,
        text=params.get("q", ""),
        repository=params.get("repository") or None,
        include_closed=params.get("status", "ACTIVE").upper() == "ALL",
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


async def findings(request: Request) -> Response:
    """GET /api/findings?groupBy=vulnerability|repository|image|layer|package&severity=...
    &fixState=fixed,not_fixed,wont_fix,deferred,end_of_life"""
    try:
        await authorize(request, None, "pull")
        params = dict(request.query_params)
        group_by = _group(params.get("groupBy", "vulnerability"))
        flt = finding_filter(params)
        limit = _limit(params.get("limit"))
        registry: RegistryService = request.app.state.registry

        def run() -> list[dict[str, Any]]:
            with reading(registry.engine) as conn:
                return aggregate.aggregate(conn, group_by, flt, limit=limit)

        groups = await run_in_threadpool(run)
    except TidegateError as exc:
        return _error(exc)
    return _json({"groupBy": group_by.value, "groups": groups})


async def usage_report(request: Request) -> Response:
    """GET /api/usage?month=YYYY-MM&repository=NAME: enhanced scans priced per month."""
    try:
        await authorize(request, None, "pull")
        settings: Settings = request.app.state.settings
        registry: RegistryService = request.app.state.registry
        params = request.query_params
        rates = usage.rates_from(settings)

        def run() -> list[usage.UsageLine]:
            with reading(registry.engine) as conn:
                return usage.report(
                    conn, month=params.get("month"), repository=params.get("repository"),
                    initial_rate=rates[0], rescan_rate=rates[1],
                )  # fmt: skip

        lines = await run_in_threadpool(run)
    except TidegateError as exc:
        return _error(exc)
    return _json(usage.as_document(lines, rates))


async def status(request: Request) -> Response:
    """GET /api/status: vulnerability DB version and the scan queue."""
    try:
        await authorize(request, None, "pull")
        settings: Settings = request.app.state.settings
        engine = request.app.state.scan_engine
        counts = await run_in_threadpool(engine.queue.counts)
    except TidegateError as exc:
        return _error(exc)
    return _json({"vulndbVersion": layout.current_version(settings.vulndb_dir), "jobs": counts})


ROUTES = [
    Route("/api/findings", findings, methods=["GET"]),
    Route("/api/usage", usage_report, methods=["GET"]),
    Route("/api/status", status, methods=["GET"]),
]
