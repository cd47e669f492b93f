"""Output format name -> renderer."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from tidegate.scanner.report.model import ScanReport

# Format -> (module, function). Imported on use: the SBOM libraries (spdx-tools, cyclonedx)
# cost ~0.15 s to import, which a JSON or table scan should not pay.
RENDERERS: dict[str, tuple[str, str]] = {
    "table": ("tidegate.scanner.report.table", "render_table"),
    "json": ("tidegate.scanner.report.jsonfmt", "render_json"),
    "sarif": ("tidegate.scanner.report.sarif", "render_sarif"),
    "cyclonedx": ("tidegate.scanner.sbom.cyclonedx", "render_cyclonedx"),
    "spdx": ("tidegate.scanner.sbom.spdx", "render_spdx"),
}


def render(report: ScanReport, fmt: str) -> str:
    """The report in `fmt`; a `KeyError` names an unknown format."""
    module, name = RENDERERS[fmt]
    renderer: Callable[[ScanReport], str] = getattr(importlib.import_module(module), name)
    return renderer(report)
