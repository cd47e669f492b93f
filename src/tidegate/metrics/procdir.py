"""Where the server processes' metric files live (prometheus-client's multiprocess mode).

Set up by `serve` before anything imports prometheus_client (which reads the variable at
import time), so every forked server process writes its own files into one directory and
any of them can answer /metrics for all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare() -> Path | None:
    """Use the operator's directory (emptied of an earlier run's files) or make one; returns
    the directory to remove on exit (None when it is the operator's)."""
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
        return None
    made = Path(tempfile.mkdtemp(prefix="tidegate-metrics-"))
    os.environ[ENV] = str(made)
    return made


def remove(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
