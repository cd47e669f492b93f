"""Tidegate's own JSON report: sorted keys, stable order, everything the inventory holds."""

from __future__ import annotations

import json
from typing import Any

from tidegate.scanner.model import Package
from tidegate.scanner.report.model import Finding, ScanReport


def package_dict(p: Package) -> dict[str, Any]:
    return {
        "name": p.name,
        "version": p.version,
        "ecosystem": p.ecosystem,
        "packageManager": p.package_manager.value,
        "purl": p.purl,
        "path": p.path,
        "layer": p.layer,
        "sourceName": p.source_name,
        "sourceVersion": p.source_version,
        "arch": p.arch,
        "licenses": list(p.licenses),
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "id": f.vulnerability_id,
        "severity": f.severity.value,
        "vendorSeverity": f.vendor_severity,
        "severitySource": f.rated_by,
        "fixState": f.fix_state.value,
        "cvss": [
            {"version": c.version, "vector": c.vector, "baseScore": c.score, "source": c.source}
            for c in f.cvss
        ],
        "package": f.package.name,
        "version": f.package.version,
        "fixedVersion": f.fixed_version,
        "layer": f.package.layer,
        "image": f.image,
        "title": f.title,
        "url": f.url,
        "path": f.package.path,
        "purl": f.package.purl,
    }


def report_dict(report: ScanReport) -> dict[str, Any]:
    images = []
    for img in report.images:
        inv = img.inventory
        distro = inv.distro
        images.append(
            {
                "reference": img.reference,
                "manifestDigest": img.manifest_digest,
                "platform": inv.platform,
                "layers": list(inv.layers),
                "distro": None
                if distro is None
                else {
                    "id": distro.id,
                    "versionId": distro.version_id,
                    "codename": distro.codename,
                    "prettyName": distro.pretty_name,
                    "recognised": distro.recognised,
                },
                "packages": [package_dict(p) for p in inv.packages],
                "warnings": [
                    {"path": w.path, "layer": w.layer, "analyzer": w.analyzer, "reason": w.reason}
                    for w in inv.warnings
                ],
            }
        )
    return {"images": images, "findings": [_finding(f) for f in report.findings]}


def render_json(report: ScanReport) -> str:
    return json.dumps(report_dict(report), indent=2, sort_keys=True) + "\n"
