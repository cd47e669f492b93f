"""`tidegate audit`: the audit trail of mutating requests and refusals, newest first."""

from __future__ import annotations

import argparse
import json
import re
import time
from datetime import UTC, datetime

from tidegate.cli.common import add_data_options, settings_from_args
from tidegate.errors import InvalidParameter

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_AGO_RE = re.compile(r"^(\d+)([smhd])$")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="show the audit trail",
        description="Show recorded requests, newest first: every mutating ECR, /v2/ and "
        "Inspector2 request, console sign-ins and sign-outs, and every refusal (failed "
        "sign-in, access denied, throttled), with principal, access key, action, resource, "
        "result, source address and time. Events are kept audit_retention_days (default 90).",
    )
    add_data_options(parser)
    parser.add_argument(
        "--principal", help="a principal ARN, a user name (…:user/NAME) or an access key id"
    )
    parser.add_argument("--action", help="an action such as ecr:PutImage; * wildcards allowed")
    parser.add_argument(
        "--since", help="only events since then: a duration ago (30m, 12h, 7d) or an ISO time"
    )
    parser.add_argument("--result", choices=("allowed", "denied", "failed"))
    parser.add_argument(
        "--interface", choices=("ecr", "v2", "inspector2", "console"), help="only this API"
    )
    parser.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def parse_since(text: str, now: float) -> float:
    """`30m`/`12h`/`7d` ago, or an ISO-8601 time (UTC when it names no zone)."""
    match = _AGO_RE.match(text.strip())
    if match:
        return now - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        msg = f"--since {text!r}: expected a duration like 30m, 12h, 7d or an ISO time"
        raise InvalidParameter(msg) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def run(args: argparse.Namespace) -> int:
    from tidegate.app import build_registry
    from tidegate.auth.audit import AuditTrail, events_as_documents

    if args.limit < 1:
        raise InvalidParameter("--limit must be at least 1")
    since = parse_since(args.since, time.time()) if args.since else None
    registry = build_registry(settings_from_args(args))
    events = AuditTrail(registry.engine).query(
        principal=args.principal, action=args.action, since=since,
        result=args.result, interface=args.interface, limit=args.limit,
    )  # fmt: skip
    if args.json:
        print(json.dumps(events_as_documents(events), indent=2))
        return 0
    print(f"{'TIME':20} {'RESULT':7} {'ACTION':34} {'PRINCIPAL / KEY':40} {'SOURCE':15} RESOURCE")
    for e in events:
        who = e.principal or e.access_key_id or "-"
        result = e.result if e.error is None else f"{e.result} ({e.error})"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e.at))
        print(
            f"{stamp:20} {e.result:7} {e.action[:34]:34} {who[:40]:40} "
            f"{(e.source_ip or '-'):15} {e.resource or '-'}" + (f"  [{result}]" if e.error else "")
        )
    return 0
