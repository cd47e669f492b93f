"""Through the ECR API: Debian's own rating and the feed's fix state on a real bookworm image
(plus lodash 4.17.15), in BASIC and ENHANCED findings, `/api/findings`, `tidegate findings`
and the events, against the real Debian OSV and GHSA npm data."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from tests.support import severity_image
from tests.support.paths import VULNDATA
from tests.support.scan_fixtures import db_update, events, skopeo_push
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]
GLIBC = "CVE-2019-1010022"  # NVD 9.8 CRITICAL; Debian's urgency: unimportant
DEBIAN_WORDS = {"unimportant", "low", "medium", "high"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = tmp_path_factory.mktemp("sev") / "data"
    db_update(data, VULNDATA, only="debian-osv", timeout=600)
    db_update(data, VULNDATA, only="ghsa-npm")
    env = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_API_ANONYMOUS_ACCESS": "true"}
    with TidegateServer(data, env=env) as srv:
        yield srv


def _all(ecr: Any, repo: str, key: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    pages = ecr.get_paginator("describe_image_scan_findings").paginate(
        repositoryName=repo, imageId={"imageTag": "v1"}
    )
    out: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for page in pages:
        out += page["imageScanFindings"].get(key, [])
        counts = page["imageScanFindings"].get("findingSeverityCounts", {})
    return out, counts


def _wait_enhanced(ecr: Any, repo: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 300
    while True:
        try:
            out = ecr.describe_image_scan_findings(repositoryName=repo, imageId={"imageTag": "v1"})
            if out["imageScanStatus"]["status"] in ("COMPLETE", "ACTIVE"):
                found, _ = _all(ecr, repo, "enhancedFindings")
                if found:
                    return found
        except ecr.exceptions.ScanNotFoundException:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_basic_and_enhanced_findings_carry_the_distributions_rating(
    server: TidegateServer,
) -> None:
    layout = severity_image.layout()
    ecr = server.ecr()
    ecr.create_repository(
        repositoryName="sev/basic", imageScanningConfiguration={"scanOnPush": True}
    )
    skopeo_push(server.host, layout, "sev/basic:v1", timeout=300)
    ecr.get_waiter("image_scan_complete").wait(
        repositoryName="sev/basic", imageId={"imageTag": "v1"},
        WaiterConfig={"Delay": 1, "MaxAttempts": 180},
    )  # fmt: skip
    basic, counts = _all(ecr, "sev/basic", "findings")
    glibc = [f for f in basic if f["name"] == GLIBC]
    assert glibc
    for f in glibc:
        attrs = {a["key"]: a["value"] for a in f["attributes"]}
        assert f["severity"] == "INFORMATIONAL"
        assert attrs["CVSS3_SCORE"] == "9.8"  # ECR's attribute list is kept
        assert attrs["package_name"] in ("libc6", "libc-bin")
    informational = [f for f in basic if f["severity"] == "INFORMATIONAL"]
    assert counts["INFORMATIONAL"] == len(informational)
    assert "CRITICAL" not in {f["severity"] for f in glibc}

    ecr.put_registry_scanning_configuration(scanType="ENHANCED")
    skopeo_push(server.host, layout, "sev/enhanced:v1", timeout=300)
    enhanced = _wait_enhanced(ecr, "sev/enhanced")
    by_key = {
        (f["packageVulnerabilityDetails"]["vulnerabilityId"],
         f["packageVulnerabilityDetails"]["vulnerablePackages"][0]["name"]): f
        for f in enhanced
    }  # fmt: skip
    libc = by_key[(GLIBC, "libc6")]
    details = libc["packageVulnerabilityDetails"]
    assert libc["severity"] == "INFORMATIONAL"
    assert details["vendorSeverity"] == "unimportant"
    assert {"baseScore": 9.8, "scoringVector": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "source": "NVD", "version": "3.0"} in details["cvss"]  # fmt: skip
    assert libc["fixAvailable"] == "NO"
    assert libc["remediation"]["recommendation"]["text"] == "No fixed version is available yet."
    lodash = by_key[("CVE-2020-8203", "lodash")]
    assert lodash["fixAvailable"] == "YES"
    assert lodash["packageVulnerabilityDetails"]["vulnerablePackages"][0]["fixedInVersion"] == (
        "4.17.19"
    )
    assert "Upgrade lodash to 4.17.19" in lodash["remediation"]["recommendation"]["text"]
    # Every CVSS with its scorer: GitHub's own vector and NVD's (via Debian's CVE record).
    assert {c["source"] for c in lodash["packageVulnerabilityDetails"]["cvss"]} >= {"GITHUB"}
    debian = [f for f in enhanced if f["packageVulnerabilityDetails"]["vulnerablePackages"][0]
              ["packageManager"] == "OS"]  # fmt: skip
    rated = [f for f in debian if f["packageVulnerabilityDetails"].get("vendorSeverity")
             in DEBIAN_WORDS]  # fmt: skip
    print(f"\nDebian findings: {len(debian)}, rated by Debian: {len(rated)}")
    assert len(rated) >= len(glibc)

    # /api/findings filters by fix state; the CLI agrees.
    def listed(**params: str) -> set[str]:
        got = httpx.get(f"{server.url}/api/findings",
                        params={"repository": "sev/enhanced", **params})  # fmt: skip
        assert got.status_code == 200, got.text
        return {g["vulnerabilityId"] for g in got.json()["groups"]}

    fixed = listed(fixState="fixed")
    assert "CVE-2020-8203" in fixed
    assert GLIBC not in fixed
    assert GLIBC in listed(fixState="not_fixed")
    bad = httpx.get(f"{server.url}/api/findings", params={"fixState": "maybe"})
    assert bad.status_code == 400
    out = subprocess.run(
        [sys.executable, "-m", "tidegate", "findings", "--fix-state", "fixed", "--repository",
         "sev/enhanced", "--json", "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert {g["vulnerabilityId"] for g in json.loads(out.stdout)} == fixed

    # Events carry the same severity as the API.
    sent = [
        e["detail"] for e in events(server.data_dir, limit=2000)
        if e["detail"]["packageVulnerabilityDetails"]["vulnerabilityId"] == GLIBC
    ]  # fmt: skip
    assert sent
    assert {d["severity"] for d in sent} == {"INFORMATIONAL"}
