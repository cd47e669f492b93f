"""`tidegate worker`: run scan workers without the HTTP server (scale-out deployments)."""

from __future__ import annotations

import argparse
import signal
import threading

from tidegate.cli.common import add_data_options, settings_from_args
from tidegate.logs import configure_logging


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run scan workers only",
        description="Claim scan and re-scan jobs from the metadata DB and run them, with no "
        "HTTP server. Any number of workers (and `tidegate serve` processes) can share one "
        "database: jobs are leased, and a worker that dies is replaced after its lease (at once "
        "when a process restarts on the same host).",
    )
    add_data_options(parser)
    parser.add_argument("--concurrency", type=int, help="worker threads (default: workers setting)")
    parser.add_argument("--drain", action="store_true", help="run the jobs queued now, then exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tidegate.app import build_services
    from tidegate.checkpoints import WalCheckpointer

    settings = settings_from_args(args, workers=args.concurrency)
    configure_logging(settings.log_format, settings.log_level)
    registry, _events, scan_engine = build_services(settings)
    if args.drain:
        scan_engine.check_vulndb()
        scan_engine.drain(timeout=3600)
        scan_engine.stop()
        return 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    checkpoints = WalCheckpointer(registry.engine)
    checkpoints.start()
    scan_engine.start()
    stop.wait()
    scan_engine.stop()
    checkpoints.stop()
    return 0
