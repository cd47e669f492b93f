"""`tidegate gc`: remove blobs and upload sessions nothing references, and scan data past
retention, and the scratch space of dead processes, while the server runs."""

from __future__ import annotations

import argparse
import json
import sys
import time

from tidegate.cli.common import add_data_options, settings_from_args


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "gc",
        help="garbage-collect unreferenced blobs, stale uploads and expired scan data",
        description="Remove blobs that no manifest references and upload sessions that "
        "expired; then apply the findings retention rules (a deleted image's closed findings "
        "go after 3 days, other closed findings after 30) and remove scan data no image "
        "references any more. Safe while `tidegate serve` runs: blobs used within the grace "
        "period and uploads still in progress are never removed. The server applies the "
        "retention rules by itself every hour.",
    )
    add_data_options(parser)
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=3600.0,
        help="spare blobs and files touched within this many seconds (default 3600)",
    )
    parser.add_argument(
        "--upload-expiry-seconds",
        type=float,
        help="remove upload sessions idle this long (default: the upload_expiry_seconds setting)",
    )
    parser.add_argument("--dry-run", action="store_true", help="report, remove nothing")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tidegate.app import build_registry
    from tidegate.engine import scratch
    from tidegate.engine.retention import purge
    from tidegate.registry.gc import collect_garbage
    from tidegate.singletons import Singleton, hold

    settings = settings_from_args(args)
    registry = build_registry(settings)
    expiry = args.upload_expiry_seconds
    # Over PostgreSQL another replica may be collecting now: one at a time.
    with (
        hold(registry.engine, Singleton.GC) as gc_held,
        hold(registry.engine, Singleton.RETENTION) as retention_held,
    ):
        if not (gc_held and retention_held):
            print("tidegate gc: another process is collecting garbage; try again later",
                  file=sys.stderr)  # fmt: skip
            return 75  # EX_TEMPFAIL
        report = collect_garbage(
            registry.engine,
            registry.store,
            grace=args.grace_seconds,
            upload_expiry=float(settings.upload_expiry_seconds) if expiry is None else expiry,
            dry_run=args.dry_run,
        )
        retained = purge(registry.engine, time.time(), dry_run=args.dry_run)
    # Scratch of analysis processes that died (a kill -9 mid-scan); live ones keep theirs.
    swept = len(scratch.sweep(settings.scratch_root, dry_run=args.dry_run))
    if args.json:
        out = {**report.__dict__, **retained.__dict__, "scratch_dirs_removed": swept}
        print(json.dumps(out, indent=2, sort_keys=True))
    else:
        verb = "would remove" if args.dry_run else "removed"
        print(
            f"{verb} {len(report.blobs_removed)} blobs ({report.bytes_freed} bytes), "
            f"{len(report.orphan_files_removed)} orphaned files, "
            f"{len(report.uploads_removed)} upload sessions; "
            f"{retained.findings_removed} findings past retention, "
            f"{retained.inventories_removed} inventories, "
            f"{retained.indexed_packages_removed} indexed packages and "
            f"{retained.finding_texts_removed} finding texts nothing references; "
            f"{swept} scratch directories of dead processes"
        )
    return 0
