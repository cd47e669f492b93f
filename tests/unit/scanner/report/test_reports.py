"""Table, JSON and SARIF reports; findings plug in without changing the renderers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import oci_build as ob
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.report.model import Finding, ScanReport
from tidegate.scanner.report.render import render
from tidegate.scanner.severity import Severity
from tidegate.scanner.sources.transport import open_source

APK = "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nL:MIT\n\n"
LEVELS = {"none", "note", "warning", "error"}


def _report(tmp_path: Path, findings: bool) -> ScanReport:
    ob.build_oci_layout(
        tmp_path / "l",
        [
            ob.Layer(
                [ob.file("etc/alpine-release", "3.19.1\n"), ob.file("lib/apk/db/installed", APK)]
            )
        ],
    )
    images = tuple(analyze_image(open_source(f"oci:{tmp_path / 'l'}")))
    if not findings:
        return ScanReport(images)
    pkg = images[0].inventory.packages[0]
    return ScanReport(
        images,
        (
            Finding("CVE-1", Severity.CRITICAL, pkg, images[0].manifest_digest, "1.2.4-r3", "bad"),
            Finding("CVE-2", Severity.LOW, pkg, images[0].manifest_digest),
        ),
    )


def test_json_report(tmp_path: Path) -> None:
    doc = json.loads(render(_report(tmp_path, False), "json"))
    [img] = doc["images"]
    assert img["distro"]["id"] == "alpine"
    assert (
        img["packages"][0]["purl"]
        == "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1"
    )
    assert doc["findings"] == []


def test_table_report_says_no_db_was_matched(tmp_path: Path) -> None:
    text = render(_report(tmp_path, False), "table")
    assert "musl" in text
    assert "1 packages" in text
    assert "Findings: not matched (no vulnerability DB" in text


def _check_sarif(doc: dict[str, object]) -> None:
    """The SARIF 2.1.0 required members and enumerations we emit."""
    assert doc["version"] == "2.1.0"
    runs = doc["runs"]
    assert isinstance(runs, list)
    for run in runs:
        driver = run["tool"]["driver"]
        assert isinstance(driver["name"], str)
        rule_ids = {r["id"] for r in driver["rules"]}
        for result in run["results"]:
            assert result["level"] in LEVELS
            assert isinstance(result["message"]["text"], str)
            assert result["ruleId"] in rule_ids
            for loc in result["locations"]:
                assert isinstance(loc["physicalLocation"]["artifactLocation"]["uri"], str)


def test_sarif_shape_with_and_without_findings(tmp_path: Path) -> None:
    empty = json.loads(render(_report(tmp_path / "a", False), "sarif"))
    _check_sarif(empty)
    assert empty["runs"][0]["results"] == []
    full = json.loads(render(_report(tmp_path / "b", True), "sarif"))
    _check_sarif(full)
    assert [r["level"] for r in full["runs"][0]["results"]] == ["error", "note"]


def test_fail_on_thresholds(tmp_path: Path) -> None:
    report = _report(tmp_path, True)
    assert report.fails(Severity.CRITICAL)
    assert report.fails(Severity.LOW)
    assert not _report(tmp_path / "x", False).fails(Severity.LOW)
