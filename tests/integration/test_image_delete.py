"""Deleting an image closes its findings, as Inspector does; pushing it again reopens them.

A real server scans an npm image under ENHANCED continuous scanning; the image is then
deleted with boto3 (BatchDeleteImage) and its repository's twin with DeleteRepository
--force. Each closing is an `Inspector2 Finding` event with status CLOSED, the findings
leave the aggregated views, and a re-push of the same digest is scanned as a new image.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.scan_fixtures import (
    advisory,
    db_update,
    events,
    mirror,
    npm_image,
    skopeo_push,
)
from tests.support.server import TidegateServer

pytestmark = pytest.mark.integration

CVES = {"CVE-2020-0001", "CVE-2020-0003"}


def _wait_for_findings(ecr: Any, repo: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            out = ecr.describe_image_scan_findings(repositoryName=repo, imageId={"imageTag": "v1"})
            found = {
                f["packageVulnerabilityDetails"]["vulnerabilityId"]
                for f in out["imageScanFindings"].get("enhancedFindings", [])
            }
            if found == CVES:
                return
        except ecr.exceptions.ScanNotFoundException:
            found = set()
        assert time.monotonic() < deadline, found
        time.sleep(0.3)


def _closed_events(data: Path, repo: str) -> set[str]:
    return {
        e["detail"]["packageVulnerabilityDetails"]["vulnerabilityId"]
        for e in events(data)
        if e["detail"]["status"] == "CLOSED"
        and e["detail"]["resources"][0]["details"]["awsEcrContainerImage"]["repositoryName"] == repo
    }


def test_delete_closes_findings_and_a_repush_reopens_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db_update(data, mirror(tmp_path / "v1", [
        advisory("GHSA-aaaa-aaaa-aaaa", "CVE-2020-0001", "lodash", "4.17.19"),
        advisory("GHSA-cccc-cccc-cccc", "CVE-2020-0003", "minimist", "1.2.6"),
    ]))  # fmt: skip
    npm_image(tmp_path / "layout")
    env = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_API_ANONYMOUS_ACCESS": "true"}
    with TidegateServer(data, env=env) as server:
        key = server.access_key()
        ecr = server.ecr()
        ecr.put_registry_scanning_configuration(scanType="ENHANCED")  # continuous for all

        def listed(repo: str) -> set[str]:
            groups = httpx.get(
                f"{server.url}/api/findings", params={"groupBy": "vulnerability",
                                                       "repository": repo}, auth=key,
            ).json()["groups"]  # fmt: skip
            return {g["vulnerabilityId"] for g in groups}

        for repo in ("live/app", "live/twin"):
            skopeo_push(server.host, tmp_path / "layout", f"{repo}:v1")
            _wait_for_findings(ecr, repo)
            assert listed(repo) == CVES

        out = ecr.batch_delete_image(repositoryName="live/app", imageIds=[{"imageTag": "v1"}])
        assert out["failures"] == []
        assert _closed_events(data, "live/app") == CVES
        assert listed("live/app") == set()
        with pytest.raises(ecr.exceptions.ImageNotFoundException):
            ecr.describe_image_scan_findings(repositoryName="live/app", imageId={"imageTag": "v1"})
        assert listed("live/twin") == CVES  # the same digest elsewhere is untouched

        # The same digest pushed again is a new image: scanned, its findings active again.
        skopeo_push(server.host, tmp_path / "layout", "live/app:v1")
        _wait_for_findings(ecr, "live/app")
        assert listed("live/app") == CVES

        ecr.delete_repository(repositoryName="live/twin", force=True)
        assert _closed_events(data, "live/twin") == CVES
        assert listed("live/twin") == set()
