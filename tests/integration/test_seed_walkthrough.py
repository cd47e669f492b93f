"""The seed walkthrough, end to end, with the real AWS CLI, skopeo and a real server process.

ENHANCED scanning with one CONTINUOUS_SCAN rule for `prod`; an image with log4j-core 2.14.1
pushed to `scanrepo-prod` and `scanrepo-test`; prod is scanned without anyone asking, test is
not until `start-image-scan`; a second manual scan within 24 h is refused; a new DB version
with one more log4j advisory re-evaluates only the prod image, emits a finding event, and
the usage report shows two initial scans and one re-scan.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.scan_fixtures import events
from tests.support.seed import log4j_image, seed_mirror, tidegate
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NEW_ADVISORY = "GHSA-7rjr-3q55-vv33"  # CVE-2021-45046, the second log4j advisory
REGION = "us-east-2"
RULES = (
    '[{"repositoryFilters":[{"filter":"prod","filterType":"WILDCARD"}],'
    '"scanFrequency":"CONTINUOUS_SCAN"}]'
)


def aws(
    server: TidegateServer, command: str, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "credentials"),
        "AWS_CONFIG_FILE": "/dev/null",
    }
    args = [str(Path(sys.executable).parent / "aws"), *command.split()[1:]]
    args += ["--endpoint-url", server.url, "--region", REGION, "--output", "json"]
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def aws_json(server: TidegateServer, command: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(aws(server, command).stdout or "{}")
    return out


def wait_status(
    server: TidegateServer, repo: str, wanted: str, timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        out = aws_json(
            server,
            f"aws ecr describe-image-scan-findings --repository-name {repo} --image-id imageTag=v1",
        )
        status = out["imageScanStatus"]["status"]
        if status == wanted:
            return out
        assert status in ("PENDING", "IN_PROGRESS", wanted), out["imageScanStatus"]
        assert time.monotonic() < deadline, out["imageScanStatus"]
        time.sleep(0.5)


def finding_ids(findings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f["packageVulnerabilityDetails"]["vulnerabilityId"]: f
        for f in findings["imageScanFindings"]["enhancedFindings"]
    }


def test_seed_walkthrough(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tidegate(data, "db", "update", "--source", str(seed_mirror(tmp_path / "m1", NEW_ADVISORY)),
             "--only", "ghsa-maven", "cisa-kev")  # fmt: skip
    layout = tmp_path / "layout"
    log4j_image(layout)
    with TidegateServer(data) as server:
        aws(server, f"aws ecr put-registry-scanning-configuration --scan-type ENHANCED "
                    f"--rules {RULES}")  # fmt: skip
        for repo in ("scanrepo-prod", "scanrepo-test"):
            aws(server, f"aws ecr create-repository --repository-name {repo}")
        password = aws(server, "aws ecr get-login-password").stdout.strip()
        authfile = tmp_path / "auth.json"
        login = subprocess.run(
            ["skopeo", "login", "--tls-verify=false", "--authfile", str(authfile),
             "--username", "AWS", "--password-stdin", server.host],
            input=password, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert login.returncode == 0, login.stderr
        for repo in ("scanrepo-prod", "scanrepo-test"):
            copy = subprocess.run(
                ["skopeo", "copy", "--dest-tls-verify=false", "--authfile", str(authfile),
                 f"oci:{layout}:v1", f"docker://{server.host}/{repo}:v1"],
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert copy.returncode == 0, copy.stderr

        # prod: scanned on push, monitored continuously, log4shell found as CRITICAL.
        prod = wait_status(server, "scanrepo-prod", "ACTIVE")
        found = finding_ids(prod)
        assert "CVE-2021-44228" in found
        # Not as a finding nor an alias (GitHub's description of log4shell names it in text).
        assert not any(
            NEW_ADVISORY in f["packageVulnerabilityDetails"]["relatedVulnerabilities"]
            for f in found.values()
        )
        assert "CVE-2021-45046" not in found
        log4shell = found["CVE-2021-44228"]
        assert log4shell["severity"] == "CRITICAL"
        assert log4shell["exploitAvailable"] == "YES"  # in CISA KEV
        assert log4shell["fixAvailable"] == "YES"
        package = log4shell["packageVulnerabilityDetails"]["vulnerablePackages"][0]
        assert package["name"] == "org.apache.logging.log4j:log4j-core"
        assert package["version"] == "2.14.1"
        assert package["filePath"] == "app/lib/log4j-core-2.14.1.jar"
        assert package["sourceLayerHash"].startswith("sha256:")
        assert prod["imageScanFindings"]["findingSeverityCounts"]["CRITICAL"] >= 1
        details = aws_json(server, "aws ecr describe-images --repository-name scanrepo-prod")
        (prod_image,) = details["imageDetails"]
        assert prod_image["imageScanStatus"]["status"] == "ACTIVE"
        summary = prod_image["imageScanFindingsSummary"]
        assert summary["findingSeverityCounts"]["CRITICAL"] >= 1

        # test: MANUAL, so no scan until someone asks for one.
        refused = aws(
            server,
            "aws ecr describe-image-scan-findings --repository-name scanrepo-test "
            "--image-id imageTag=v1",
            check=False,
        )
        assert refused.returncode != 0
        assert "ScanNotFoundException" in refused.stderr
        listed = aws_json(server, "aws ecr describe-images --repository-name scanrepo-test")
        assert "imageScanStatus" not in listed["imageDetails"][0]
        config = aws_json(
            server,
            "aws ecr batch-get-repository-scanning-configuration "
            "--repository-names scanrepo-prod scanrepo-test",
        )
        frequencies = {
            c["repositoryName"]: c["scanFrequency"] for c in config["scanningConfigurations"]
        }
        assert frequencies == {"scanrepo-prod": "CONTINUOUS_SCAN", "scanrepo-test": "MANUAL"}

        aws(
            server,
            "aws ecr start-image-scan --repository-name scanrepo-test --image-id imageTag=v1",
        )
        # The AWS CLI's waiter polls DescribeImageScanFindings until COMPLETE.
        aws(
            server,
            "aws ecr wait image-scan-complete --repository-name scanrepo-test "
            "--image-id imageTag=v1",
        )
        manual = wait_status(server, "scanrepo-test", "COMPLETE")
        assert "CVE-2021-44228" in finding_ids(manual)
        again = aws(
            server,
            "aws ecr start-image-scan --repository-name scanrepo-test --image-id imageTag=v1",
            check=False,
        )
        assert again.returncode != 0
        assert "LimitExceededException" in again.stderr

        # A new DB version with one more log4j advisory: the running server notices it.
        tidegate(data, "db", "update", "--source", str(seed_mirror(tmp_path / "m2", None)),
                 "--only", "ghsa-maven", "cisa-kev")  # fmt: skip
        deadline = time.monotonic() + 120
        while "CVE-2021-45046" not in finding_ids(wait_status(server, "scanrepo-prod", "ACTIVE")):
            assert time.monotonic() < deadline, "the prod image was not re-evaluated"
            time.sleep(0.5)
        # The MANUAL image was scanned once; it is not monitored.
        assert "CVE-2021-45046" not in finding_ids(wait_status(server, "scanrepo-test", "COMPLETE"))

        # The aggregated views: log4shell hits both images in both repositories.
        key = server.access_key()
        by_vuln = httpx.get(
            f"{server.url}/api/findings",
            params={"groupBy": "vulnerability", "q": "CVE-2021-44228"},
            auth=key,
        ).json()["groups"]
        assert [g["vulnerabilityId"] for g in by_vuln] == ["CVE-2021-44228"]
        assert by_vuln[0]["affectedImages"] == 2
        assert by_vuln[0]["repositories"] == ["scanrepo-prod", "scanrepo-test"]
        by_repo = httpx.get(
            f"{server.url}/api/findings",
            params={"groupBy": "repository", "severity": "CRITICAL"},
            auth=key,
        ).json()["groups"]
        assert {g["repository"] for g in by_repo} == {"scanrepo-prod", "scanrepo-test"}
        assert httpx.get(f"{server.url}/api/findings").status_code == 401
        api_usage = httpx.get(f"{server.url}/api/usage", auth=key).json()
        assert api_usage["total"] == {"initialScans": 2, "rescans": 1, "cost": 0.19}

        usage = json.loads(tidegate(data, "usage", "--json"))
        by_repo = {line["repository"]: line for line in usage["lines"]}
        assert by_repo["scanrepo-prod"]["initialScans"] == 1
        assert by_repo["scanrepo-prod"]["rescans"] == 1
        assert by_repo["scanrepo-test"]["initialScans"] == 1
        assert by_repo["scanrepo-test"]["rescans"] == 0
        assert usage["total"]["cost"] == pytest.approx(2 * 0.09 + 0.01)

        finding_events = [
            e for e in events(data, "Inspector2 Finding", limit=1000)
            if e["detail"]["packageVulnerabilityDetails"]["vulnerabilityId"] == "CVE-2021-45046"
        ]  # fmt: skip
        assert len(finding_events) == 1
        initial = events(data, "Inspector2 Scan")
        prod_arn = "arn:aws:ecr:us-east-1:000000000000:repository/scanrepo-prod"
        scanned = {e["detail"]["repository-name"]: e["detail"] for e in initial}
        assert set(scanned) == {prod_arn, prod_arn.replace("prod", "test")}
        assert scanned[prod_arn]["scan-status"] == "INITIAL_SCAN_COMPLETE"
        assert scanned[prod_arn]["finding-severity-counts"]["CRITICAL"] >= 1
        assert finding_events[0]["resources"][0].endswith("repository/scanrepo-prod/" +
                                                          prod_image["imageDigest"])  # fmt: skip
