"""`tidegate findings`: findings aggregated by vulnerability, repository, image, layer, package."""

from __future__ import annotations

import argparse
import json

from tidegate.cli.common import add_data_options, settings_from_args
from tidegate.scanner.vulndb.model import FixState


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "findings",
        help="list findings grouped by vulnerability, repository, image, layer or package",
        description="Aggregate the current (ACTIVE) findings of every scanned image, worst "
        "first, the way the Inspector console groups them.",
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
    parser.add_argument("--include-closed", action="store_true", help="closed findings too")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tidegate.app import build_registry
    from tidegate.db import reading
    from tidegate.engine import aggregate

    registry = build_registry(settings_from_args(args))
    flt = aggregate.FindingFilter(
        severities=tuple(s.upper() for s in args.severity),
        fix_available=args.fix_available,
        fix_states=tuple(args.fix_state),
        text=args.search,
        repository=args.repository,
        include_closed=args.include_closed,
    )
    with reading(registry.engine) as conn:
        groups = aggregate.aggregate(conn, aggregate.GroupBy(args.group_by), flt, limit=args.limit)
    if args.json:
        print(json.dumps(groups, indent=2, sort_keys=True))
        return 0
    key_names = {"vulnerability": ["vulnerabilityId"], "repository": ["repository"],
                 "image": ["repository", "imageDigest"],
                 "layer": ["repository", "imageDigest", "layerHash"],
                 "package": ["packageName"]}[args.group_by]  # fmt: skip
    print(f"{'GROUP':70} {'SEVERITY':9} {'CRIT':>5} {'HIGH':>5} {'ALL':>5} {'IMAGES':>6}")
    for g in groups:
        label = " ".join(str(g[k])[:71] for k in key_names)[:70]
        counts = g["severityCounts"]
        print(
            f"{label:70} {g['severity']:9} {counts.get('critical', 0):>5} "
            f"{counts.get('high', 0):>5} {counts['all']:>5} {g['affectedImages']:>6}"
        )
    return 0
