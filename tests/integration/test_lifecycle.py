"""Lifecycle policies through boto3 against a real server: stored, previewed and applied.

Four images are pushed with skopeo: v1, v2, then two under `latest`, so the first `latest`
image becomes untagged. The policy keeps one image tagged v* and one of everything else;
the server (applying policies every second here) then expires v1 and the untagged image,
each with an `ECR Image Action` DELETE event.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import oci_build as ob
from tests.support.scan_fixtures import events
from tests.support.server import TidegateServer

pytestmark = pytest.mark.integration

REPO = "lc/app"
POLICY = json.dumps({"rules": [
    {"rulePriority": 1, "description": "keep the newest release",
     "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"],
                   "countType": "imageCountMoreThan", "countNumber": 1},
     "action": {"type": "expire"}},
    {"rulePriority": 2, "description": "and one of everything else",
     "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1},
     "action": {"type": "expire"}},
]})  # fmt: skip


def _push(server: TidegateServer, tmp: Path, tag: str, content: bytes) -> str:
    layout = tmp / f"layout-{content.decode()}"
    ob.build_oci_layout(layout, [ob.Layer([ob.file("etc/build-id", content)])], tag=tag)
    out = tmp / f"digest-{content.decode()}"
    copy = subprocess.run(
        ["skopeo", "copy", "--dest-tls-verify=false", "--digestfile", str(out),
         f"oci:{layout}:{tag}", f"docker://{server.host}/{REPO}:{tag}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert copy.returncode == 0, copy.stderr
    return out.read_text().strip()


def _delete_events(data: Path) -> list[dict[str, Any]]:
    found = [e["detail"] for e in events(data, "ECR Image Action")]
    return [e for e in found if e["action-type"] == "DELETE"]


def test_policy_is_stored_previewed_and_applied(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_LIFECYCLE_INTERVAL_SECONDS": "1"}
    with TidegateServer(data, env=env) as server:
        ecr = server.ecr()
        v1 = _push(server, tmp_path, "v1", b"1")
        v2 = _push(server, tmp_path, "v2", b"2")
        old = _push(server, tmp_path, "latest", b"3")
        new = _push(server, tmp_path, "latest", b"4")

        with pytest.raises(ecr.exceptions.LifecyclePolicyNotFoundException):
            ecr.get_lifecycle_policy(repositoryName=REPO)
        with pytest.raises(ecr.exceptions.LifecyclePolicyPreviewNotFoundException):
            ecr.get_lifecycle_policy_preview(repositoryName=REPO)
        broken = POLICY.replace('"tagPrefixList": ["v"], ', "")
        with pytest.raises(ecr.exceptions.InvalidParameterException, match="tagPrefixList"):
            ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=broken)

        started = ecr.start_lifecycle_policy_preview(
            repositoryName=REPO, lifecyclePolicyText=POLICY
        )
        assert started["status"] in ("IN_PROGRESS", "COMPLETE")
        preview = ecr.get_lifecycle_policy_preview(repositoryName=REPO)
        assert preview["status"] == "COMPLETE"
        assert preview["summary"] == {"expiringImageTotalCount": 2}
        results = [
            (r["imageDigest"], r.get("imageTags"), r["appliedRulePriority"])
            for r in preview["previewResults"]
        ]
        assert results == [(old, None, 2), (v1, ["v1"], 1)]  # newest first
        untagged = ecr.get_lifecycle_policy_preview(
            repositoryName=REPO, filter={"tagStatus": "UNTAGGED"}
        )
        assert [r["imageDigest"] for r in untagged["previewResults"]] == [old]
        assert ecr.list_images(repositoryName=REPO)["imageIds"]  # a preview deletes nothing
        assert len(ecr.describe_images(repositoryName=REPO)["imageDetails"]) == 4

        ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=POLICY)
        deadline = time.monotonic() + 30
        while "lastEvaluatedAt" not in (got := ecr.get_lifecycle_policy(repositoryName=REPO)):
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert got["lifecyclePolicyText"] == POLICY
        left = {
            d["imageDigest"]: d.get("imageTags")
            for d in ecr.describe_images(repositoryName=REPO)["imageDetails"]
        }
        assert left == {v2: ["v2"], new: ["latest"]}
        deleted = {(e["image-digest"], e.get("image-tag")) for e in _delete_events(data)}
        assert deleted == {(v1, "v1"), (old, None)}

        gone = ecr.delete_lifecycle_policy(repositoryName=REPO)
        assert gone["lifecyclePolicyText"] == POLICY
        with pytest.raises(ecr.exceptions.LifecyclePolicyNotFoundException):
            ecr.delete_lifecycle_policy(repositoryName=REPO)
        with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
            ecr.put_lifecycle_policy(repositoryName="lc/none", lifecyclePolicyText=POLICY)


def test_a_worker_process_expires_with_the_same_events(tmp_path: Path) -> None:
    """`tidegate worker` applies policies too; its deletes emit events like the server's."""
    data = tmp_path / "data"
    env = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_LIFECYCLE_INTERVAL_SECONDS": "0"}
    with TidegateServer(data, env=env, args=["--no-workers"]) as server:
        ecr = server.ecr()
        v1 = _push(server, tmp_path, "v1", b"1")
        v2 = _push(server, tmp_path, "v2", b"2")
        ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=POLICY)
        worker = subprocess.Popen(
            [sys.executable, "-m", "tidegate", "worker", "--data-dir", str(data)],
            env={**os.environ, "TIDEGATE_LIFECYCLE_INTERVAL_SECONDS": "1"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while "lastEvaluatedAt" not in ecr.get_lifecycle_policy(repositoryName=REPO):
                assert time.monotonic() < deadline
                time.sleep(0.3)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        left = [d["imageDigest"] for d in ecr.describe_images(repositoryName=REPO)["imageDetails"]]
        assert left == [v2]
        assert {(e["image-digest"], e.get("image-tag")) for e in _delete_events(data)} == {
            (v1, "v1")
        }
