"""The test image builder writes layouts that skopeo, a real OCI tool, accepts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support import oci_build as ob


def _layers() -> list[ob.Layer]:
    return [
        ob.Layer([ob.directory("etc"), ob.file("etc/os-release", "ID=debian\n")]),
        ob.Layer([ob.whiteout("etc/os-release"), ob.symlink("x", "etc")], compression="zstd"),
        ob.Layer([ob.file("a", "b")], compression="none"),
    ]


def test_layout_is_readable_by_skopeo(tmp_path: Path) -> None:
    img = ob.build_oci_layout(tmp_path / "l", _layers(), tag="t1")
    out = subprocess.run(
        ["skopeo", "inspect", "--raw", f"oci:{tmp_path / 'l'}:t1"],
        check=True,
        capture_output=True,
    ).stdout
    assert json.loads(out)["layers"][1]["digest"] == img.layer_digests[1]
    # copy verifies every blob's digest against the manifest
    subprocess.run(
        ["skopeo", "copy", "-q", f"oci:{tmp_path / 'l'}:t1", f"dir:{tmp_path / 'copy'}"],
        check=True,
        capture_output=True,
    )


def test_archives_are_readable_by_skopeo(tmp_path: Path) -> None:
    ob.build_oci_layout(tmp_path / "l", _layers())
    ob.write_oci_archive(tmp_path / "l", tmp_path / "o.tar")
    ob.build_docker_archive(tmp_path / "d.tar", _layers()[::2])
    for ref in (f"oci-archive:{tmp_path / 'o.tar'}", f"docker-archive:{tmp_path / 'd.tar'}"):
        out = subprocess.run(["skopeo", "inspect", ref], check=True, capture_output=True).stdout
        assert json.loads(out)["Os"] == "linux"
