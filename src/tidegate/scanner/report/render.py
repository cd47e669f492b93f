"""Output format name -> renderer."""

from __future__ import annotations

from collections.abc import Callable

from tidegate.scanner.report.jsonfmt import render_json
from tidegate.scanner.report.model import ScanReport
from tidegate.scanner.report.sarif import render_sarif
from tidegate.scanner.report.table import render_table
from tidegate.scanner.sbom.cyclonedx import render_cyclonedx
from tidegate.scanner.sbom.spdx import render_spdx

RENDERERS: dict[str, Callable[[ScanReport], str]] = {
    "table": render_table,
    "json": render_json,
    "sarif": render_sarif,
    "cyclonedx": render_cyclonedx,
    "spdx": render_spdx,
}


def render(report: ScanReport, fmt: str) -> str:
    """The report in `fmt`; a `KeyError` names an unknown format."""
    return RENDERERS[fmt](report)
