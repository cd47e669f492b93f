"""`tidegate sbom IMAGE`: a CycloneDX 1.6 or SPDX 2.3 SBOM of an image, without a server."""

from __future__ import annotations

import argparse
from typing import Any

from tidegate.cli.scan import add_image_options, analyze_from_args, write_output
from tidegate.scanner.report.model import ScanReport
from tidegate.scanner.report.render import render


def add_parser(subparsers: Any) -> None:
    """Register `sbom`."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "sbom", help="write a CycloneDX or SPDX SBOM of an image"
    )
    add_image_options(p)
    p.add_argument("--format", choices=("cyclonedx", "spdx"), default="cyclonedx")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Analyze and write the SBOM."""
    report = ScanReport(images=tuple(analyze_from_args(args)))
    write_output(render(report, args.format), args.output)
    return 0
