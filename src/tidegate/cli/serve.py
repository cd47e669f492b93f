"""`tidegate serve`: run the registry, the ECR API and (by default) the scan workers."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
from typing import TYPE_CHECKING

from tidegate.cli.common import add_data_options, settings_from_args
from tidegate.logs import configure_logging

if TYPE_CHECKING:
    from tidegate.config import Settings

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the registry server",
        description="Start the OCI registry (/v2/) and the ECR-compatible API (POST /) with "
        "embedded defaults: SQLite metadata and filesystem blobs under --data-dir. "
        "SIGTERM stops it cleanly after in-flight requests finish.",
    )
    add_data_options(parser)
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 5000)")
    parser.add_argument("--log-format", choices=["json", "text"], help="log line format")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--vulndb-source",
        help="mirror (directory or URL, laid out like the shared snapshot) to import the "
        "vulnerability DB from on first start and on each scheduled update; default: the "
        "real upstream feeds",
    )
    parser.add_argument(
        "--vulndb-update-interval",
        type=int,
        metavar="SECONDS",
        help="update the vulnerability DB this often while serving (default 0: never; "
        "`tidegate db update` works any time, the server picks new versions up)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="server processes sharing the port (default: server_workers setting, else one "
        "per CPU core); scan workers and schedules run in the first only",
    )
    parser.add_argument(
        "--no-workers",
        action="store_true",
        help="do not run scan workers in this process (run `tidegate worker` instead)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tidegate.engine import owner, scratch
    from tidegate.metrics import procdir

    settings = settings_from_args(
        args,
        host=args.host,
        port=args.port,
        log_format=args.log_format,
        log_level=args.log_level,
        server_workers=args.workers,
        run_workers=False if args.no_workers else None,
        vulndb_source=args.vulndb_source,
        vulndb_update_interval_seconds=args.vulndb_update_interval,
    )
    configure_logging(settings.log_format, settings.log_level)
    count = settings.server_workers or os.cpu_count() or 1
    # Before anything imports prometheus_client, which reads the variable once. One
    # directory per supervisor, named like scratch space, so what a killed server left is
    # removed by the next start.
    metrics_root = settings.data_dir / "metrics"
    scratch.sweep(metrics_root)
    metrics_dir = procdir.prepare(metrics_root / str(owner.current()))
    log.info(
        "starting",
        extra={
            "fields": {
                "host": settings.host,
                "port": settings.port,
                "data_dir": str(settings.data_dir),
                "processes": count,
            }
        },
    )
    try:
        code = _serve_one(settings, primary=True) if count == 1 else _serve_many(settings, count)
    finally:
        procdir.remove(metrics_dir)
    log.info("stopped")
    return code


def _serve_one(settings: Settings, *, primary: bool, sock: object = None) -> int:
    import gc
    import socket

    import uvicorn

    from tidegate.app import create_app

    app = create_app(settings, primary=primary)
    # Everything built so far (botocore's ECR and Inspector models, routes, caches) lives as
    # long as the server: out of the collector's sight, a full collection no longer walks it,
    # which cut the manifest GET p99 under 32 connections from ~75 ms to ~10 ms.
    gc.freeze()
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
        h11_max_incomplete_event_size=1 << 20,
    )
    # uvicorn re-raises the signal that stopped it once shutdown is complete; a handler of
    # our own turns that into a normal exit, so SIGTERM after a clean drain exits 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    server = uvicorn.Server(config)
    server.run(sockets=[sock] if isinstance(sock, socket.socket) else None)
    return 0


def _serve_many(settings: Settings, count: int) -> int:
    from prometheus_client import multiprocess

    from tidegate.app import prepare
    from tidegate.cli.processes import listening_socket, supervise

    prepare(settings)
    # Fail here, once, when the port is taken, rather than in every server in turn.
    listening_socket(settings.host, settings.port).close()
    secondary = dataclasses.replace(settings, run_workers=False)

    def serve(index: int) -> int:
        sock = listening_socket(settings.host, settings.port)
        return _serve_one(settings if index == 0 else secondary, primary=index == 0, sock=sock)

    return supervise(count, serve, multiprocess.mark_process_dead)
