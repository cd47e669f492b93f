"""oras (the PyPI client) pushes and pulls artifacts, one with a subject listed by referrers."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import oras.client
import oras.oci
import pytest

from tests.support.server import TidegateServer

pytestmark = pytest.mark.integration


def test_artifact_with_subject_and_referrers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # oras only pushes files below the working directory, like the oras CLI.
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    with TidegateServer(data, env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as srv:
        client = oras.client.OrasClient(hostname=srv.host, insecure=True)
        payload = tmp_path / "model.bin"
        payload.write_bytes(b"weights " * 50_000)
        client.push(files=["model.bin"], target=f"{srv.host}/ml/model:v1", do_chunked=True)
        raw = httpx.get(
            f"{srv.url}/v2/ml/model/manifests/v1",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        ).content
        subject = oras.oci.Subject(
            mediaType="application/vnd.oci.image.manifest.v1+json",
            digest="sha256:" + hashlib.sha256(raw).hexdigest(),
            size=len(raw),
        )
        sbom = tmp_path / "sbom.spdx.json"
        sbom.write_text(json.dumps({"spdxVersion": "SPDX-2.3"}))
        client.push(
            files=["sbom.spdx.json:application/spdx+json"],
            target=f"{srv.host}/ml/model:v1-sbom",
            subject=subject,
            manifest_annotations={"org.opencontainers.image.description": "sbom"},
        )
        out = tmp_path / "pulled"
        files = client.pull(target=f"{srv.host}/ml/model:v1", outdir=str(out))
        assert [Path(f).read_bytes() for f in files] == [payload.read_bytes()]
        out2 = tmp_path / "pulled-sbom"
        files = client.pull(target=f"{srv.host}/ml/model:v1-sbom", outdir=str(out2))
        assert [Path(f).read_bytes() for f in files] == [sbom.read_bytes()]

        listing = httpx.get(f"{srv.url}/v2/ml/model/referrers/{subject.digest}").json()
        assert len(listing["manifests"]) == 1
        entry = listing["manifests"][0]
        sbom_manifest = httpx.get(
            f"{srv.url}/v2/ml/model/manifests/v1-sbom",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        ).content
        assert entry["digest"] == "sha256:" + hashlib.sha256(sbom_manifest).hexdigest()
        assert entry["annotations"] == {"org.opencontainers.image.description": "sbom"}
