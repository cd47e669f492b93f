"""`tidegate gc` against a running server: garbage goes, anything in use stays."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import cast

import httpx
import pytest

from tests.integration.conftest import image_manifest, push_blob, put_manifest, sha256
from tests.support.server import TidegateServer

pytestmark = pytest.mark.integration


def run_gc(data_dir: Path, *args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "tidegate", "gc", "--data-dir", str(data_dir), "--json", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    report: dict[str, object] = json.loads(out.stdout)
    return report


def blob_files(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "blobs" / "blobs").rglob("*") if p.is_file()}


def test_gc_removes_only_unreferenced(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with TidegateServer(data, env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as srv:
        c = httpx.Client(base_url=srv.url)
        kept_body = image_manifest(c, "gc/keep", [b"kept layer"])
        put_manifest(c, "gc/keep", "v1", kept_body)
        doomed_body = image_manifest(c, "gc/doomed", [b"doomed layer"])
        doomed = put_manifest(c, "gc/doomed", "v1", doomed_body).headers["Docker-Content-Digest"]
        assert c.delete(f"/v2/gc/doomed/manifests/{doomed}").status_code == 202
        fresh = push_blob(c, "gc/fresh", b"just pushed, no manifest yet")
        upload = c.post("/v2/gc/inflight/blobs/uploads/").headers["Location"]
        c.patch(upload, content=b"half of a layer")

        # Default grace: nothing recent goes, not even the deleted image's blobs.
        report = run_gc(data)
        assert report["blobs_removed"] == []
        assert fresh.split(":")[1] in blob_files(data)

        report = run_gc(data, "--grace-seconds", "0")
        removed = set(cast("list[str]", report["blobs_removed"]))
        assert sha256(b"doomed layer") in removed
        assert doomed in removed
        assert fresh in removed  # unreferenced once the grace period is waived
        assert sha256(b"kept layer") not in removed
        files = blob_files(data)
        assert sha256(b"kept layer").split(":")[1] in files
        assert sha256(b"doomed layer").split(":")[1] not in files
        # The kept image still pulls whole; the in-flight upload still completes.
        assert c.get("/v2/gc/keep/manifests/v1").content == kept_body
        r = c.get(f"/v2/gc/keep/blobs/{sha256(b'kept layer')}")
        assert r.content == b"kept layer"
        r = c.put(upload, params={"digest": sha256(b"half of a layer")})
        assert r.status_code == 201
        # Removed blobs are gone from the API too, and re-pushing them works.
        assert c.head(f"/v2/gc/doomed/blobs/{sha256(b'doomed layer')}").status_code == 404
        push_blob(c, "gc/doomed", b"doomed layer")
        assert c.get(f"/v2/gc/doomed/blobs/{sha256(b'doomed layer')}").content == b"doomed layer"


def test_gc_expires_stale_uploads_and_dry_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with TidegateServer(data, env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as srv:
        c = httpx.Client(base_url=srv.url)
        location = c.post("/v2/gc/stale/blobs/uploads/").headers["Location"]
        report = run_gc(data, "--upload-expiry-seconds", "0", "--dry-run")
        assert len(report["uploads_removed"]) == 1  # type: ignore[arg-type]
        assert c.get(location).status_code == 204
        run_gc(data, "--upload-expiry-seconds", "0")
        r = c.get(location)
        assert r.status_code == 404
        assert r.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
