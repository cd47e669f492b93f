"""The server's own vulnerability-DB updates: on first start, then on a schedule.

Updates run `scanner.vulndb.manager.update` in a background thread; the running engine's
watcher notices the new version and starts the continuous re-scan, exactly as it does after
a `tidegate db update` from the command line. Over PostgreSQL one process at a time
updates (`vulndb_share.run_update`); the others fetch the version it shares.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

from tidegate.config import Settings
from tidegate.engine import vulndb_share
from tidegate.scanner.vulndb import layout, manager
from tidegate.scanner.vulndb.layout import UpdateInProgress

log = logging.getLogger(__name__)


class DbUpdateScheduler:
    """Import the DB when there is none; refresh it every `interval` seconds if set."""

    def __init__(self, settings: Settings, db: Engine) -> None:
        self.settings = settings
        self.db = db
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        first = (
            self.settings.vulndb_import_on_start
            and layout.current_version(self.settings.vulndb_dir) is None
            and vulndb_share.latest(self.db) is None
        )
        if not first and self.settings.vulndb_update_interval_seconds <= 0:
            return
        self._thread = threading.Thread(
            target=self._run, args=(first,), name="vulndb-updates", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self, first: bool) -> None:
        if first:
            self.update_now(first=True)
        interval = self.settings.vulndb_update_interval_seconds
        while interval > 0 and not self._stop.wait(interval):
            self.update_now()

    def update_now(self, *, first: bool = False) -> None:
        source, root = self.settings.vulndb_source or None, self.settings.vulndb_dir
        log.info(
            "vulnerability DB update starting", extra={"fields": {"source": source or "upstream"}}
        )

        def update() -> manager.UpdateResult | None:
            if first and layout.current_version(root) is not None:
                return None  # another process imported it meanwhile, and it was fetched
            return manager.update(root, mirror=source)

        try:
            result = vulndb_share.run_update(self.db, root, update)
        except UpdateInProgress:
            log.info("another vulnerability DB update is running; skipped")
            return
        except Exception:
            log.exception("vulnerability DB update failed")
            return
        if result is None:
            return
        failed = [r.name for r in result.sources if r.status == "failed"]
        log.info(
            "vulnerability DB update finished",
            extra={"fields": {"version": result.version, "published": result.published,
                              "failed_sources": failed}},
        )  # fmt: skip
