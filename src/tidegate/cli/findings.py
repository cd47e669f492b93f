"""`tidegate findings`: findings aggregated by vulnerability, repository, image, layer, package,
or each finding in the AWS Security Finding Format (`--format asff`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tidegate.cli.common import add_data_options, settings_from_args
from tidegate.scanner.severity import Severity
from tidegate.scanner.vulndb.model import FixState
from tidegate.states import FindingStatus


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "findings",
        help="list findings grouped by vulnerability, repository, image, layer or package",
        description="Aggregate the current (ACTIVE) findings of every scanned image, worst "
        "first, the way the Inspector console groups them; findings suppression rules hide are "
        "SUPPRESSED (--status SUPPRESSED lists them); the VEX column shows the statements of "
        "pushed VEX documents that apply (not_affected and fixed ones suppress). Then every "
        "Inspector filter with the open findings it matches: STALE ones match none any more. "
        "With --format asff, print each "
        "enhanced finding in the AWS Security Finding Format as a Security Hub "
        'BatchImportFindings request body ({"Findings": [...]}).',
    )
    add_data_options(parser)
    parser.add_argument(
        "--group-by",
        choices=["vulnerability", "repository", "image", "layer", "package"],
        default="vulnerability",
    )
    parser.add_argument(
        "--severity", action="append", default=[],
        help="only these severities (repeatable): CRITICAL, HIGH, MEDIUM, LOW, ...",
    )  # fmt: skip
    parser.add_argument("--fix-available", choices=["YES", "NO"], help="only fixable (or not)")
    parser.add_argument(
        "--fix-state", action="append", default=[], choices=[f.value for f in FixState],
        help="only findings in this fix state (repeatable)",
    )  # fmt: skip
    parser.add_argument("--search", default="", help="substring of vulnerability, package, repo")
    parser.add_argument("--repository", help="only this repository")
    parser.add_argument("--include-closed", action="store_true", help="every status")
    parser.add_argument(
        "--status", choices=[*(s.value for s in FindingStatus), "ALL"],
        help="only findings in this status (default ACTIVE; ALL = --include-closed)",
    )  # fmt: skip
    parser.add_argument(
        "--fail-on", type=Severity.parse, metavar="SEVERITY",
        help="exit 1 when a selected finding is at or above SEVERITY (suppressed ones are not "
        "selected unless --status says so)",
    )  # fmt: skip
    parser.add_argument(
        "--limit", type=int, help="at most this many groups (default 100) or ASFF findings (all)"
    )
    parser.add_argument(
        "--format", choices=["table", "json", "asff"], default="table",
        help="table, JSON groups, or ASFF findings (--severity, --repository, "
        "--fix-available and --include-closed apply)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON (same as --format json)")
    parser.add_argument(
        "--rules", action="store_true",
        help="list the suppression rules (Inspector filters) instead: matching open findings, "
        "STALE when none, EXPIRED, reason and author",
    )  # fmt: skip
    parser.set_defaults(func=run)


def _criteria(args: argparse.Namespace) -> dict[str, list[dict[str, str]]]:
    """The flags as an Inspector filterCriteria, so ASFF output is what ListFindings selects."""
    out: dict[str, list[dict[str, str]]] = {}
    if args.severity:
        out["severity"] = [{"comparison": "EQUALS", "value": s.upper()} for s in args.severity]
    if args.repository:
        out["ecrImageRepositoryName"] = [{"comparison": "EQUALS", "value": args.repository}]
    if args.fix_available:
        out["fixAvailable"] = [{"comparison": "EQUALS", "value": args.fix_available}]
    status = "ALL" if args.include_closed else args.status or FindingStatus.ACTIVE
    if status != "ALL":
        out["findingStatus"] = [{"comparison": "EQUALS", "value": status}]
    return out


def run_asff(args: argparse.Namespace) -> int:
    from tidegate.app import build_registry
    from tidegate.db import reading
    from tidegate.events.model import Origin
    from tidegate.inspector import findings
    from tidegate.inspector.asff import to_asff

    if args.fix_state or args.search:
        print("tidegate findings: --fix-state and --search do not apply to --format asff",
              file=sys.stderr)  # fmt: skip
        return 2
    settings = settings_from_args(args)
    origin = Origin(settings.registry_id, settings.region)
    registry = build_registry(settings)
    out: list[dict[str, object]] = []
    with reading(registry.engine) as conn:
        ids = findings.matching_ids(conn, origin, _criteria(args))
        if args.limit is not None:
            ids = ids[: args.limit]
        for start in range(0, len(ids), 500):
            shapes = findings.render_shapes(conn, origin, ids[start : start + 500])
            out.extend(to_asff(f, origin) for f in shapes)
    print(json.dumps({"Findings": out}, indent=2, sort_keys=True))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.format == "asff":
        return run_asff(args)
    import time

    from tidegate.app import build_registry
    from tidegate.db import reading
    from tidegate.engine import aggregate, suppression
    from tidegate.events.model import Origin

    settings = settings_from_args(args)
    registry = build_registry(settings)
    status, include_closed = aggregate.status_filter(args.status or FindingStatus.ACTIVE)
    flt = aggregate.FindingFilter(
        severities=tuple(s.upper() for s in args.severity),
        fix_available=args.fix_available,
        fix_states=tuple(args.fix_state),
        text=args.search,
        repository=args.repository,
        include_closed=include_closed or args.include_closed,
        status=None if args.include_closed else status,
    )
    origin = Origin(settings.registry_id, settings.region)
    with reading(registry.engine) as conn:
        groups = aggregate.aggregate(
            conn, aggregate.GroupBy(args.group_by), flt, limit=args.limit or 100, with_vex=True
        )
        rules = suppression.report(conn, origin, time.time())
        worst = _worst(aggregate.aggregate(conn, aggregate.GroupBy.REPOSITORY, flt, limit=10**9))
    as_json = args.json or args.format == "json"
    if args.rules:
        if as_json:
            print(json.dumps([r.as_dict() for r in rules], indent=2, sort_keys=True))
        else:
            _print_rules(rules)
    elif as_json:
        print(json.dumps(groups, indent=2, sort_keys=True))
    else:
        _print(groups, args.group_by)
        _print_rules(rules)
    failed = args.fail_on is not None and worst is not None and worst.rank >= args.fail_on.rank
    return 1 if failed else 0


def _worst(groups: list[dict[str, Any]]) -> Severity | None:
    found = [Severity.parse(k) for g in groups for k, n in g["severityCounts"].items()
             if k != "all" and n]  # fmt: skip
    return max(found, key=lambda s: s.rank, default=None)


def _print(groups: list[dict[str, Any]], group_by: str) -> None:
    key_names = {"vulnerability": ["vulnerabilityId"], "repository": ["repository"],
                 "image": ["repository", "imageDigest"],
                 "layer": ["repository", "imageDigest", "layerHash"],
                 "package": ["packageName"]}[group_by]  # fmt: skip
    print(f"{'GROUP':70} {'SEVERITY':9} {'CRIT':>5} {'HIGH':>5} {'ALL':>5} {'IMAGES':>6} VEX")
    for g in groups:
        label = " ".join(str(g[k])[:71] for k in key_names)[:70]
        counts = g["severityCounts"]
        print(
            f"{label:70} {g['severity']:9} {counts.get('critical', 0):>5} "
            f"{counts.get('high', 0):>5} {counts['all']:>5} {g['affectedImages']:>6} "
            f"{_vex_text(g.get('vex', []))}".rstrip()
        )


def _vex_text(statements: list[dict[str, Any]]) -> str:
    """`not_affected: vulnerable_code_not_in_execute_path; under_investigation`."""
    return "; ".join(
        f"{s['status']}: {s['justification']}" if s["justification"] else s["status"]
        for s in statements
    )


def _print_rules(rules: list[Any]) -> None:
    if not rules:
        return
    print()
    print(f"{'FILTER':32} {'ACTION':8} {'MATCHING':>8} {'STATE':8} {'EXPIRES':20} REASON")
    for report in rules:
        rule = report.rule
        state = "EXPIRED" if report.expired else "STALE" if report.stale else "OK"
        expires = "" if rule.expires_at is None else time_text(rule.expires_at)
        print(f"{rule.name[:32]:32} {rule.action:8} {report.matching:>8} {state:8} "
              f"{expires:20} {rule.reason or ''}"
              + (f" ({rule.author})" if rule.author else ""))  # fmt: skip


def time_text(at: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
