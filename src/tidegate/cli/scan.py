"""`tidegate scan IMAGE`: the inventory and the vulnerability findings of an image.

No server is involved: IMAGE uses skopeo's transport syntax (`oci:DIR[:TAG]`,
`oci-archive:FILE`, `docker-archive:FILE`, `docker://HOST/REPO:TAG`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from tidegate.cli.common import add_data_options, settings_from_args
from tidegate.scanner.inventory import ImageInventory, analyze_image
from tidegate.scanner.match import os_packages_unchecked
from tidegate.scanner.report.findings import report_findings
from tidegate.scanner.report.model import ScanReport
from tidegate.scanner.report.render import RENDERERS, render
from tidegate.scanner.severity import Severity
from tidegate.scanner.sources.transport import open_source
from tidegate.scanner.vulndb.store import NoDatabase, VulnStore


def add_image_options(p: argparse.ArgumentParser) -> None:
    """IMAGE plus the source, cache and output options `scan` and `sbom` share."""
    p.add_argument(
        "image",
        help="oci:DIR[:TAG] | oci-archive:FILE | docker-archive:FILE | docker://HOST/REPO:TAG",
    )
    p.add_argument("--output", type=Path, help="write the report here instead of stdout")
    p.add_argument("--platform", help="analyze only this platform of an index, e.g. linux/arm64")
    p.add_argument("--cache-dir", type=Path, help="layer result cache (default: DATA_DIR/cache)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the layer cache")
    p.add_argument(
        "--insecure", action="store_true", help="docker://: use plain HTTP (--tls-verify=false)"
    )
    p.add_argument(
        "--username",
        default=os.environ.get("TIDEGATE_REGISTRY_USERNAME", ""),
        help="docker://: registry user (or TIDEGATE_REGISTRY_USERNAME; "
        "the password comes from TIDEGATE_REGISTRY_PASSWORD)",
    )
    add_data_options(p)


def analyze_from_args(args: argparse.Namespace) -> list[ImageInventory]:
    """Open the IMAGE source and analyze it with the cache the options name."""
    cache_dir: Path | None = None
    if not args.no_cache:
        cache_dir = args.cache_dir or settings_from_args(args).cache_dir / "layers"
    source = open_source(
        args.image,
        username=args.username,
        password=os.environ.get("TIDEGATE_REGISTRY_PASSWORD", ""),
        insecure=args.insecure,
    )
    return analyze_image(source, platform=args.platform, cache_dir=cache_dir)


def write_output(text: str, output: Path | None) -> None:
    """stdout, or the file replaced atomically so no half-written report is ever seen."""
    if output is None:
        sys.stdout.write(text)
        return
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(output)


def add_parser(subparsers: Any) -> None:
    """Register `scan`."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "scan", help="list the packages (and findings) of an image without a server"
    )
    add_image_options(p)
    p.add_argument("--format", choices=sorted(RENDERERS), default="table")
    p.add_argument(
        "--fail-on",
        type=Severity.parse,
        metavar="SEVERITY",
        help="exit 1 when a finding at or above SEVERITY exists (LOW, MEDIUM, HIGH, CRITICAL); "
        f"otherwise exit {EXIT_UNCHECKED} when an image's OS packages could not be checked "
        "(a recognised distribution or release with no vulnerability data)",
    )
    p.add_argument(
        "--ignore-unfixed",
        action="store_true",
        help="leave out findings with no fixed version (no fix yet, won't fix, deferred, EOL)",
    )
    p.set_defaults(func=run)


EXIT_UNCHECKED = 3


def run(args: argparse.Namespace) -> int:
    """Scan, render, write; with --fail-on exit 1 for findings, 3 for unchecked OS packages."""
    images = tuple(analyze_from_args(args))
    report = ScanReport(images=images)
    unchecked = False
    try:
        store = VulnStore(settings_from_args(args).vulndb_dir)
    except NoDatabase:
        print("tidegate: no vulnerability DB; listing packages only", file=sys.stderr)
    else:
        with contextlib.closing(store):
            found = report_findings(images, store, ignore_unfixed=args.ignore_unfixed)
            for image in images:
                reason = os_packages_unchecked(image.inventory, store.has_namespace)
                if reason is not None:
                    unchecked = True
                    print(f"tidegate: warning: {image.reference}: {reason}", file=sys.stderr)
        report = ScanReport(images=images, findings=tuple(found), vulndb_version=store.version)
    write_output(render(report, args.format), args.output)
    if args.fail_on is not None and report.fails(args.fail_on):
        return 1
    if args.fail_on is not None and unchecked:
        return EXIT_UNCHECKED
    return 0
