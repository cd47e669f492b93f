"""The ASGI application: `/v2/` (OCI distribution), `/` (ECR JSON API), lifespan wiring."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from tidegate.auth.audit import AuditMiddleware
from tidegate.auth.bootstrap import ensure_admin_key
from tidegate.auth.service import AuthService
from tidegate.checkpoints import WalCheckpointer
from tidegate.config import Settings
from tidegate.console.routes import ROUTES as console_routes
from tidegate.console.routes import install_console
from tidegate.db import engine_for, migrate
from tidegate.ecr.api import ecr_dispatch
from tidegate.ecr.console_port import EcrForConsole
from tidegate.ecr.wiring import install_ecr
from tidegate.engine import reports as report_store
from tidegate.engine import retention, scans, vex_hooks, vulndb_share
from tidegate.engine.runtime import ScanEngine
from tidegate.engine.scheduler import DbUpdateScheduler
from tidegate.events import wiring as events
from tidegate.events.model import Origin
from tidegate.inspector.api import inspector_routes
from tidegate.inspector.model import route_of
from tidegate.inspector.reports import ReportJobs
from tidegate.logs import AccessLogMiddleware
from tidegate.monitoring.middleware import MetricsMiddleware
from tidegate.monitoring.routes import health_routes, serve_metrics_on
from tidegate.registry.api.routes import dispatch
from tidegate.registry.service import RegistryService
from tidegate.registry.storage.factory import open_store
from tidegate.webapi.routes import ROUTES as api_routes

V2_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def build_registry(settings: Settings) -> RegistryService:
    """The registry service over the configured metadata DB and blob store, migrated."""
    engine = engine_for(settings)
    migrate(engine)
    store = open_store(settings.storage, settings.blob_dir)
    return RegistryService(engine, store, max_manifest_bytes=settings.max_manifest_bytes)


def build_services(settings: Settings) -> tuple[RegistryService, events.EventsRuntime, ScanEngine]:
    """The registry with every hook installed, its event outbox, and the scan engine.

    Every process that changes images (`serve`, and `worker` through lifecycle expiry) uses
    this, so a push or delete has the same events and scan consequences wherever it runs.
    """
    registry = build_registry(settings)
    event_runtime = events.install(registry, settings)
    origin = Origin(settings.registry_id, settings.region)
    reports = ReportJobs(settings, registry.engine, origin)
    scan_engine = ScanEngine(registry, settings, kinds={report_store.JOB_KIND: reports.kind()})
    clock = scan_engine.clock
    registry.hooks.on_push.append(scans.on_push)
    registry.hooks.on_delete.append(retention.delete_hook(origin, clock))
    registry.hooks.on_push.append(vex_hooks.push_hook(origin, registry.store, clock))
    registry.hooks.on_delete.append(vex_hooks.delete_hook(origin, clock))
    return registry, event_runtime, scan_engine


def prepare(settings: Settings) -> None:
    """What the first start creates, done once before `serve --workers N` forks: the schema,
    the master key and the admin key (N processes racing to create them would collide)."""
    registry = build_registry(settings)
    try:
        if settings.auth_enabled:
            auth = AuthService(registry.engine, settings.data_dir, region=settings.region,
                               registry_id=settings.registry_id)  # fmt: skip
            ensure_admin_key(auth, settings.data_dir)
    finally:
        registry.engine.dispose()


def create_app(settings: Settings, *, primary: bool = True) -> Starlette:
    """The application of one server process; only the `primary` one of a `--workers N`
    group runs the background duties (scan workers when `run_workers`, the DB update
    schedule, WAL checkpoints, the `metrics_bind` listener)."""
    registry, event_runtime, scan_engine = build_services(settings)
    updates = DbUpdateScheduler(settings, registry.engine)
    # Without workers, nothing else here keeps the DB directory at the shared version.
    follower = vulndb_share.Follower(registry.engine, settings.vulndb_dir)

    checkpoints = WalCheckpointer(registry.engine)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop_metrics = None
        if not primary:
            checkpoints.defer()
        else:
            checkpoints.start()
            if settings.metrics_bind:
                stop_metrics = serve_metrics_on(
                    settings.metrics_bind, registry, settings.vulndb_dir
                )
        await events.start(app)
        if settings.run_workers and primary:
            scan_engine.start()
            updates.start()
        else:
            follower.start()
        try:
            yield
        finally:
            follower.stop()
            updates.stop()
            scan_engine.stop()
            await events.stop(app)
            if stop_metrics is not None:
                stop_metrics()
            checkpoints.stop()
            registry.engine.dispose()

    middleware = [Middleware(MetricsMiddleware)]
    if settings.access_log:
        middleware.append(Middleware(AccessLogMiddleware))
    middleware.append(
        Middleware(
            AuditMiddleware, settings=settings, engine=registry.engine, inspector_route=route_of
        )
    )
    app = Starlette(
        routes=[
            Route("/v2/{path:v2path}", dispatch, methods=V2_METHODS),
            Route("/", ecr_dispatch, methods=["POST"]),
            *health_routes(),
            *api_routes,
            *console_routes,
            *inspector_routes(),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.events = event_runtime
    app.state.scan_engine = scan_engine
    install_ecr(app, settings, registry)
    install_console(app, settings, registry, EcrForConsole(settings, registry, app.state.auth))
    return app
