"""`tidegate usage`: enhanced scans per month and repository, priced like ECR/Inspector."""

from __future__ import annotations

import argparse
import json

from tidegate.cli.common import add_data_options, settings_from_args


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "usage",
        help="report enhanced-scan usage and cost",
        description="Count enhanced scans per month and repository, initial (on push or "
        "manual) and re-scans (after vulnerability-DB updates), priced at the configured "
        "rates (TOML [usage] initial_scan_rate, rescan_rate; defaults $0.09 and $0.01). "
        "Basic scans are free and not listed.",
    )
    add_data_options(parser)
    parser.add_argument("--month", help="YYYY-MM (default: all months)")
    parser.add_argument("--repository", help="only this repository")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tidegate.app import build_registry
    from tidegate.db import reading
    from tidegate.engine import usage

    settings = settings_from_args(args)
    registry = build_registry(settings)
    rates = usage.rates_from(settings)
    with reading(registry.engine) as conn:
        lines = usage.report(
            conn, month=args.month, repository=args.repository,
            initial_rate=rates[0], rescan_rate=rates[1],
        )  # fmt: skip
    doc = usage.as_document(lines, rates)
    if args.json:
        print(json.dumps(doc, indent=2, sort_keys=True))
        return 0
    print(f"{'MONTH':8} {'REPOSITORY':50} {'INITIAL':>8} {'RESCANS':>8} {'COST USD':>9}")
    for line in lines:
        print(
            f"{line.month:8} {line.repository_name[:50]:50} {line.initial_scans:>8} "
            f"{line.rescans:>8} {line.cost:>9.2f}"
        )
    total = doc["total"]
    assert isinstance(total, dict)
    print(f"{'total':59} {total['initialScans']:>8} {total['rescans']:>8} {total['cost']:>9.2f}")
    return 0
