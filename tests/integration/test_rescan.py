"""Continuous re-scan semantics: new, changed and withdrawn advisories; unchanged ones quiet.

Two DB versions are built from hand-written GHSA records (a directory laid out like the
mirror's `ghsa/ghsa-npm.tar.xz`); an image with lodash 4.17.15 and minimist 1.2.0 is pushed
to a CONTINUOUS_SCAN repository of a real server, which re-evaluates it when the second
version is published.
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


def findings(ecr: Any) -> dict[str, dict[str, Any]]:
    out = ecr.describe_image_scan_findings(repositoryName="live/app", imageId={"imageTag": "v1"})
    assert out["imageScanStatus"]["status"] in ("PENDING", "IN_PROGRESS", "ACTIVE")
    return {
        f["packageVulnerabilityDetails"]["vulnerabilityId"]: f
        for f in out["imageScanFindings"].get("enhancedFindings", [])
    }


def test_new_changed_withdrawn_and_unchanged(tmp_path: Path) -> None:
    keep = advisory("GHSA-aaaa-aaaa-aaaa", "CVE-2020-0001", "lodash", "4.17.19")
    moved = advisory("GHSA-bbbb-bbbb-bbbb", "CVE-2020-0002", "lodash", "4.17.21")
    gone = advisory("GHSA-cccc-cccc-cccc", "CVE-2020-0003", "minimist", "1.2.6")
    new = advisory("GHSA-dddd-dddd-dddd", "CVE-2020-0004", "lodash", "4.17.20")
    moved_v2 = advisory("GHSA-bbbb-bbbb-bbbb", "CVE-2020-0002", "lodash", "4.17.22")
    data = tmp_path / "data"
    db_update(data, mirror(tmp_path / "v1", [keep, moved, gone]))
    npm_image(tmp_path / "layout")
    env = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_API_ANONYMOUS_ACCESS": "true"}
    with TidegateServer(data, env=env) as server:
        ecr = server.ecr()
        ecr.put_registry_scanning_configuration(scanType="ENHANCED")
        skopeo_push(server.host, tmp_path / "layout", "live/app:v1")
        deadline = time.monotonic() + 60
        while set(findings(ecr)) != {"CVE-2020-0001", "CVE-2020-0002", "CVE-2020-0003"}:
            assert time.monotonic() < deadline, findings(ecr)
            time.sleep(0.3)
        before = findings(ecr)
        assert (
            before["CVE-2020-0002"]["packageVulnerabilityDetails"]["vulnerablePackages"][0][
                "fixedInVersion"
            ]
            == "4.17.21"
        )
        initial_events = len(events(data))

        db_update(data, mirror(tmp_path / "v2", [keep, moved_v2, new]))
        deadline = time.monotonic() + 60
        while set(findings(ecr)) != {"CVE-2020-0001", "CVE-2020-0002", "CVE-2020-0004"}:
            assert time.monotonic() < deadline, findings(ecr)
            time.sleep(0.3)
        after = findings(ecr)
        package = after["CVE-2020-0002"]["packageVulnerabilityDetails"]["vulnerablePackages"][0]
        assert package["fixedInVersion"] == "4.17.22"
        # The unchanged advisory's finding was left alone.
        assert after["CVE-2020-0001"]["updatedAt"] == before["CVE-2020-0001"]["updatedAt"]
        # One event each for the new, the changed and the closed finding; none for the rest.
        deadline = time.monotonic() + 30
        while len(events(data)) < initial_events + 3:
            assert time.monotonic() < deadline
            time.sleep(0.3)
        got = events(data)
        latest = got[: len(got) - initial_events]
        by_id = {
            e["detail"]["packageVulnerabilityDetails"]["vulnerabilityId"]: e["detail"]["status"]
            for e in latest
        }
        assert by_id == {"CVE-2020-0004": "ACTIVE", "CVE-2020-0002": "ACTIVE",
                         "CVE-2020-0003": "CLOSED"}  # fmt: skip
        usage = httpx.get(
            f"{server.url}/api/usage",
            auth=server.access_key(),
        ).json()
        assert usage["total"]["initialScans"] == 1
        assert usage["total"]["rescans"] == 1
