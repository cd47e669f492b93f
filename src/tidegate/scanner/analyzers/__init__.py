"""Analyzer plugins; `load_all` imports every built-in analyzer so it registers itself."""

from __future__ import annotations

import importlib

from tidegate.scanner.analyzers.base import ANALYZERS, Analyzer

_PACKAGES = ("tidegate.scanner.analyzers.os", "tidegate.scanner.analyzers.lang")


def load_all() -> dict[str, type[Analyzer]]:
    """Import the OS and language analyzer packages (once) and return the registry."""
    for name in _PACKAGES:
        importlib.import_module(name)
    return ANALYZERS
