"""Test fixtures built once per cache key under `.cache/` (imports nothing of tidegate)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def built_once(cache: Path, name: str, build: Callable[[Path], None]) -> Path:
    """The directory `cache/name`, built by `build(path)` if missing.

    Built aside and renamed into place, so it only ever appears whole (a killed run leaves
    no half-built fixture for the next one to trust).
    """
    final = cache / name
    if final.is_dir():
        return final
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        build(Path(tmp) / "out")
        os.replace(Path(tmp) / "out", final)
    return final
