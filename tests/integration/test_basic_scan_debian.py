"""BASIC scan on push of a real Debian image against the real Debian OSV data.

The image is debootstrap'd bookworm plus `hello` in a second layer and `hello` purged in a
third (tests.support.debian_image); the DB holds only the debian-osv source.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import debian_image
from tests.support.paths import VULNDATA
from tests.support.scan_fixtures import db_update, events, skopeo_push
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = tmp_path_factory.mktemp("basic") / "data"
    db_update(data, VULNDATA, only="debian-osv", timeout=600)
    with TidegateServer(data, env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as srv:
        yield srv


def test_basic_scan_on_push_of_a_debian_image(server: TidegateServer) -> None:
    layout, _ = debian_image.debian_layout()
    ecr = server.ecr()
    ecr.create_repository(
        repositoryName="debian/base", imageScanningConfiguration={"scanOnPush": True}
    )
    skopeo_push(server.host, layout, "debian/base:bookworm", tag="three", timeout=300)
    image = {"imageTag": "bookworm"}
    ecr.get_waiter("image_scan_complete").wait(
        repositoryName="debian/base", imageId=image, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    pages = ecr.get_paginator("describe_image_scan_findings").paginate(
        repositoryName="debian/base", imageId=image, PaginationConfig={"PageSize": 7}
    )
    findings: list[dict[str, Any]] = []
    for page in pages:
        assert page["imageScanStatus"]["status"] == "COMPLETE"
        counts = page["imageScanFindings"]["findingSeverityCounts"]
        findings += page["imageScanFindings"]["findings"]
    assert len(findings) == sum(counts.values()) > 20
    assert "enhancedFindings" not in page["imageScanFindings"]
    installed = {name for name, _v, _a in debian_image.dpkg_truth(debian_image.stages()[2])}
    by_package: dict[str, set[str]] = {}
    for f in findings:
        attrs = {a["key"]: a["value"] for a in f["attributes"]}
        assert attrs["package_name"] in installed  # nothing from the purged `hello` layer
        by_package.setdefault(attrs["package_name"], set()).add(f["name"])
        assert f["severity"] in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")
        assert f["uri"].startswith("https://")
    # bookworm's zlib 1:1.2.13.dfsg-1 carries the minizip overflow that Debian never fixed.
    assert "CVE-2023-45853" in by_package["zlib1g"]
    assert any(a["key"] == "CVSS3_SCORE" for f in findings for a in f["attributes"])
    detail = ecr.describe_images(repositoryName="debian/base", imageIds=[image])["imageDetails"][0]
    assert detail["imageScanStatus"]["status"] == "COMPLETE"
    assert detail["imageScanFindingsSummary"]["findingSeverityCounts"] == counts
    # The on-push scan used this image's one basic scan for the next 24 hours.
    with pytest.raises(ecr.exceptions.LimitExceededException):
        ecr.start_image_scan(repositoryName="debian/base", imageId=image)
    (event,) = events(server.data_dir, "ECR Image Scan")
    assert event["detail"]["repository-name"] == "debian/base"
    assert event["detail"]["scan-status"] == "COMPLETE"
    assert event["detail"]["image-tags"] == ["bookworm"]
    assert event["detail"]["finding-severity-counts"] == counts
