"""`tidegate scan` on a Debian image with an old npm package, against the real Debian OSV and
GHSA npm data: the source-aware severity and the fix state in every format, and
`--ignore-unfixed`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import severity_image
from tests.support.paths import VULNDATA
from tests.support.scan_fixtures import db_update

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def tidegate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidegate", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data = tmp_path_factory.mktemp("sev") / "data"
    db_update(data, VULNDATA, only="debian-osv", timeout=600)
    db_update(data, VULNDATA, only="ghsa-npm")  # debian-osv is carried over
    return data, f"oci:{severity_image.layout()}:v1"


def scan(setup: tuple[Path, str], *args: str) -> subprocess.CompletedProcess[str]:
    data, image = setup
    out = tidegate("scan", image, "--data-dir", str(data), "--no-cache", *args)
    assert out.returncode == 0, out.stderr
    return out


def _findings(setup: tuple[Path, str], *args: str) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = json.loads(scan(setup, "--format", "json", *args).stdout)[
        "findings"
    ]
    return findings


def test_debian_urgency_and_fix_state_in_json(setup: tuple[Path, str]) -> None:
    findings = _findings(setup)
    glibc = [f for f in findings if f["id"] == "CVE-2019-1010022"]
    assert {f["package"] for f in glibc} == {"libc6", "libc-bin"}
    for f in glibc:
        # NVD says 9.8 CRITICAL; Debian's urgency "unimportant" wins.
        assert f["severity"] == "INFORMATIONAL"
        assert f["vendorSeverity"] == "unimportant"
        assert f["severitySource"] == "debian-osv"
        assert f["fixState"] == "not_fixed"
        assert f["fixedVersion"] == ""
        assert {"version": "3.0", "baseScore": 9.8, "source": "NVD",
                "vector": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"} in f["cvss"]  # fmt: skip
    lodash = {f["id"]: f for f in findings if f["package"] == "lodash"}
    prototype = lodash["CVE-2020-8203"]
    assert prototype["fixState"] == "fixed"
    assert prototype["fixedVersion"] == "4.17.19"
    assert prototype["severitySource"] == "ghsa-npm"  # GitHub's own rating
    assert prototype["severity"] == prototype["vendorSeverity"].upper() == "HIGH"
    # Where Debian has not rated a CVE ("not yet assigned"), NVD's CVSS decides.
    zlib = next(f for f in findings if f["id"] == "CVE-2023-45853")
    assert (zlib["vendorSeverity"], zlib["severitySource"], zlib["severity"]) == (
        "", "NVD", "CRITICAL",
    )  # fmt: skip


def test_ignore_unfixed_keeps_only_findings_with_a_fix(setup: tuple[Path, str]) -> None:
    every = _findings(setup)
    fixed = _findings(setup, "--ignore-unfixed")
    assert fixed
    assert all(f["fixState"] == "fixed" and f["fixedVersion"] for f in fixed)
    assert len(fixed) == len([f for f in every if f["fixState"] == "fixed"]) < len(every)
    assert {f["package"] for f in fixed} == {"lodash"}  # bookworm has no fix for these yet


def test_table_sarif_and_cyclonedx_agree(setup: tuple[Path, str]) -> None:
    table = scan(setup).stdout.splitlines()
    header = next(line for line in table if line.startswith("VULNERABILITY"))
    assert header.split()[:7] == ["VULNERABILITY", "SEVERITY", "PACKAGE", "VERSION", "FIX",
                                  "STATE", "FIXED"]  # fmt: skip
    row = next(line.split() for line in table if line.startswith("CVE-2019-1010022"))
    assert row[1] == "INFORMATIONAL"
    assert row[4] == "not_fixed"
    sarif = json.loads(scan(setup, "--format", "sarif").stdout)
    levels = {
        (r["ruleId"], r["properties"]["fixState"]): r["level"] for r in sarif["runs"][0]["results"]
    }
    assert levels[("CVE-2019-1010022", "not_fixed")] == "note"
    assert levels[("CVE-2020-8203", "fixed")] == "error"
    bom = json.loads(scan(setup, "--format", "cyclonedx").stdout)
    vuln = next(v for v in bom["vulnerabilities"] if v["id"] == "CVE-2019-1010022")
    by_method = {r["method"]: r for r in vuln["ratings"]}
    assert by_method["other"]["severity"] == "info"
    assert by_method["other"]["source"]["name"] == "debian-osv"
    assert by_method["CVSSv3"]["source"]["name"] == "NVD"
    assert by_method["CVSSv3"]["score"] == 9.8
    assert by_method["CVSSv3"]["severity"] == "critical"
