"""Where the server processes' metric files live (prometheus-client's multiprocess mode).

Set up by `serve` before anything imports prometheus_client (which reads the variable at
import time), so every forked server process writes its own files into one directory and
any of them can answer /metrics for all.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(default: Path) -> Path | None:
    """Use the operator's directory (emptied of an earlier run's files) or make `default`;
    returns the directory to remove on exit (None when it is the operator's)."""
    if "prometheus_client" in sys.modules:
        msg = "the metrics directory must be set before prometheus_client is imported"
        raise RuntimeError(msg)
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
        return None
    shutil.rmtree(default, ignore_errors=True)
    default.mkdir(parents=True)
    os.environ[ENV] = str(default)
    return default


def remove(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
