"""SARIF 2.1.0: one rule per vulnerability, one result per affected package."""

from __future__ import annotations

import json
from typing import Any

from tidegate import __version__
from tidegate.scanner.report.model import ScanReport
from tidegate.scanner.severity import Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFORMATIONAL: "note",
    Severity.UNDEFINED: "none",
    Severity.UNTRIAGED: "none",
}


def render_sarif(report: ScanReport) -> str:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in report.findings:
        rules.setdefault(
            f.vulnerability_id,
            {
                "id": f.vulnerability_id,
                "shortDescription": {"text": f.title or f.vulnerability_id},
                "properties": {"severity": f.severity.value},
            }
            | ({"helpUri": f.url} if f.url else {}),
        )
        fixed = f" (fixed in {f.fixed_version})" if f.fixed_version else ""
        results.append(
            {
                "ruleId": f.vulnerability_id,
                "level": _LEVEL[f.severity],
                "properties": {"fixState": f.fix_state.value, "severity": f.severity.value},
                "message": {
                    "text": f"{f.package.name} {f.package.version} is affected by "
                    f"{f.vulnerability_id}{fixed}"
                },
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.package.path or "image"}
                        },
                        "logicalLocations": [{"name": f.package.layer, "kind": "module"}],
                    }
                ],
            }
        )
    run = {
        "tool": {
            "driver": {
                "name": "tidegate",
                "version": __version__,
                "informationUri": "https://github.com/tidegate/tidegate",
                "rules": list(rules.values()),
            }
        },
        "results": results,
        "properties": {"images": [i.reference for i in report.images]},
    }
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"
