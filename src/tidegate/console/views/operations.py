"""Operations pages: usage and cost, the event outbox with webhook deliveries (redeliver),
and the vulnerability DB's version, sources, age and last re-scan."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import Response
from starlette.routing import Route

from tidegate.console.web import Call, pages, view
from tidegate.engine import console_reads, usage
from tidegate.errors import InvalidParameter
from tidegate.inputs import ascii_decimal
from tidegate.scanner.vulndb.store import NoDatabase, VulnStore

EVENTS_PAGE = 25


def usage_page(call: Call) -> Response:
    call.require("ecr:DescribeRegistry", "*")
    month = call.query.get("month", "").strip() or None
    if month is not None and not (
        len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()
    ):
        raise InvalidParameter(f"month must be YYYY-MM, not {month!r}")
    repository = call.query.get("repository", "").strip() or None
    rates = usage.rates_from(call.settings)
    number, size = call.page()
    found = console_reads.usage_page(
        call.registry,
        month=month,
        repository=repository,
        rates=rates,
        offset=(number - 1) * size,
        limit=size,
    )
    return call.render(
        "usage.html",
        title="Usage",
        lines=found.lines,
        months=found.months,
        rates=rates,
        month=month or "",
        repository=repository or "",
        number=number,
        total_pages=pages(found.line_count, number, size),
        total=found.total,
    )


def _before(call: Call, name: str) -> int | None:
    raw = call.query.get(name)
    if not raw:
        return None
    value = ascii_decimal(raw)
    if value is None:
        raise InvalidParameter(f"{name} must be a row number, not {raw!r}")
    return value


def events_page(call: Call) -> Response:
    call.require("ecr:DescribeRegistry", "*")
    config = call.request.app.state.events.config
    events, sent = console_reads.recent_events(
        call.registry,
        limit=EVENTS_PAGE + 1,
        before_event=_before(call, "before"),
        before_delivery=_before(call, "dbefore"),
    )
    return call.render(
        "events.html",
        title="Events",
        events=events[:EVENTS_PAGE],
        more_events=len(events) > EVENTS_PAGE,
        deliveries=sent[:EVENTS_PAGE],
        more_deliveries=len(sent) > EVENTS_PAGE,
        webhooks=config.webhooks,
    )


def redeliver(call: Call) -> Response:
    call.require("ecr:PutRegistryPolicy", "*")  # a registry administrator's action
    event_id = call.form.get("event_id", "")
    config = call.request.app.state.events.config
    now = datetime.now(UTC).timestamp()
    count = console_reads.redeliver(
        call.registry,
        event_id,
        lambda event: [hook.url for hook in config.webhooks if hook.wants(event.detail_type)],
        now,
    )
    call.request.app.state.events.dispatcher.nudge()
    return call.redirect("/console/events", f"Queued {count} deliveries of {event_id}.")


def vulndb_page(call: Call) -> Response:
    call.require("ecr:DescribeRegistry", "*")
    info = counts = None
    problem = ""
    try:
        store = VulnStore(call.settings.vulndb_dir)
    except NoDatabase as exc:
        problem = exc.message
    else:
        try:
            info = store.version_info()
            counts = store.counts()
        finally:
            store.close()
    age = None
    if info is not None:
        try:
            age = int((datetime.now(UTC) - datetime.fromisoformat(info.built_at)).total_seconds())
        except ValueError:
            age = None
    rescan = console_reads.last_rescan(call.registry)
    return call.render(
        "vulndb.html",
        title="Vulnerability DB",
        info=info,
        counts=counts,
        problem=problem,
        age=age,
        rescan=rescan,
    )


ROUTES = [
    Route("/usage", view(usage_page), methods=["GET"]),
    Route("/events", view(events_page), methods=["GET"]),
    Route("/events/redeliver", view(redeliver), methods=["POST"]),
    Route("/vulndb", view(vulndb_page), methods=["GET"]),
]
