"""The whole server on PostgreSQL metadata: push, pull, ECR API and a scan, unchanged code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import oci_build as ob
from tests.support.paths import VULNDATA
from tests.support.postgres import fresh_database
from tests.support.scan_fixtures import db_update, skopeo_push
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_server_on_postgres(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db_update(data, VULNDATA)
    lodash = json.dumps({"name": "lodash", "version": "4.17.15"}).encode()
    layout = tmp_path / "layout"
    ob.build_oci_layout(
        layout, [ob.Layer([ob.file("app/node_modules/lodash/package.json", lodash)])], tag="v1"
    )
    with fresh_database() as url:
        env = {"TIDEGATE_DATABASE_URL": url, "TIDEGATE_ANONYMOUS_ACCESS": "push"}
        with TidegateServer(data, env=env) as server:
            c = httpx.Client(base_url=server.url, timeout=30)
            assert not (data / "meta.db").exists()
            ecr_env = {
                **os.environ,
                "AWS_SHARED_CREDENTIALS_FILE": str(data / "credentials"),
                "AWS_CONFIG_FILE": "/dev/null",
            }
            aws = [str(Path(sys.executable).parent / "aws"), "ecr", "--endpoint-url",
                   server.url, "--region", "us-east-1", "--output", "json"]  # fmt: skip
            subprocess.run(
                [*aws, "put-registry-scanning-configuration", "--scan-type", "ENHANCED"],
                check=True, env=ecr_env, capture_output=True,
            )  # fmt: skip
            skopeo_push(server.host, layout, "pg/app:v1")
            assert c.get("/v2/pg/app/tags/list").json()["tags"] == ["v1"]
            deadline = time.monotonic() + 90
            while True:
                out = json.loads(
                    subprocess.run(
                        [*aws, "describe-image-scan-findings", "--repository-name", "pg/app",
                         "--image-id", "imageTag=v1"],
                        check=True, env=ecr_env, capture_output=True, text=True,
                    ).stdout
                )  # fmt: skip
                if out["imageScanStatus"]["status"] == "ACTIVE":
                    break
                assert out["imageScanStatus"]["status"] in ("PENDING", "IN_PROGRESS"), out
                assert time.monotonic() < deadline
                time.sleep(0.5)
            ids = {
                f["packageVulnerabilityDetails"]["vulnerabilityId"]
                for f in out["imageScanFindings"]["enhancedFindings"]
            }
            # lodash 4.17.15: prototype pollution (fixed 4.17.19) and command injection (4.17.21).
            assert {"CVE-2020-8203", "CVE-2021-23337"} <= ids
