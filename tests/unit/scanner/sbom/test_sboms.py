"""SBOMs from a real scan, checked by each format's own validator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.json.json_parser import parse_from_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from tests.support import oci_build as ob
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.report.model import Finding, ScanReport
from tidegate.scanner.sbom.cyclonedx import render_cyclonedx
from tidegate.scanner.sbom.spdx import render_spdx
from tidegate.scanner.severity import Severity
from tidegate.scanner.sources.transport import open_source

STATUS = (
    "Package: libssl3\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\n"
    "Architecture: amd64\nSource: openssl\n\n"
    "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\n"
    "Architecture: amd64\nSource: zlib\n"
)


@pytest.fixture
def report(tmp_path: Path) -> ScanReport:
    ob.build_oci_index(
        tmp_path / "m",
        {
            p: [
                ob.Layer(
                    [
                        ob.file("etc/os-release", "ID=debian\nVERSION_ID=12\n"),
                        ob.file("var/lib/dpkg/status", STATUS),
                    ]
                )
            ]
            for p in ("linux/amd64", "linux/arm64")
        },
    )
    return ScanReport(tuple(analyze_image(open_source(f"oci:{tmp_path / 'm'}"))))


def test_cyclonedx_validates(report: ScanReport) -> None:
    text = render_cyclonedx(report)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    broken = dict(doc, components=[{"name": "x"}])  # no type: the validator must object
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(broken)) is not None
    assert doc["specVersion"] == "1.6"
    purls = sorted(
        c["purl"] for img in doc["components"] for c in img.get("components", []) if "purl" in c
    )
    assert purls == sorted(p.purl for img in report.images for p in img.inventory.packages)
    assert "vulnerabilities" not in doc or doc["vulnerabilities"] == []


def test_cyclonedx_with_findings_validates(report: ScanReport) -> None:
    img = report.images[0]
    pkg = img.inventory.packages[0]
    finding = Finding("CVE-2024-0001", Severity.HIGH, pkg, img.manifest_digest, fixed_version="9")
    text = render_cyclonedx(ScanReport(report.images, (finding,)))
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    [vuln] = json.loads(text)["vulnerabilities"]
    assert vuln["id"] == "CVE-2024-0001"
    assert vuln["ratings"][0]["severity"] == "high"


def test_spdx_validates(report: ScanReport, tmp_path: Path) -> None:
    out = tmp_path / "sbom.spdx.json"
    out.write_text(render_spdx(report))
    document = parse_from_file(str(out))
    assert validate_full_spdx_document(document) == []
    assert document.creation_info.spdx_version == "SPDX-2.3"
    names = sorted(p.name for p in document.packages)
    assert names.count("zlib1g") == 2  # one per platform image
