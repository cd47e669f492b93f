"""`tidegate scan` and `tidegate sbom` as real processes, on images built by the test helper.

cli/main.py does not list `scan` and `sbom` yet (that file is not ours to edit), so the
process builds the same argparse tree main() would from the modules' add_parser, and routes
TidegateError the way main() does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import oci_build as ob

HARNESS = """
import argparse, sys
from tidegate.cli import sbom, scan
from tidegate.errors import TidegateError
p = argparse.ArgumentParser(prog="tidegate")
sub = p.add_subparsers(dest="command", required=True)
scan.add_parser(sub)
sbom.add_parser(sub)
args = p.parse_args(sys.argv[1:])
try:
    sys.exit(args.func(args))
except TidegateError as exc:
    print(f"tidegate: error: {exc.message}", file=sys.stderr)
    sys.exit(2)
"""
STATUS = "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n"


def _tidegate(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HARNESS, *argv], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def _image(tmp_path: Path) -> str:
    ob.build_oci_layout(
        tmp_path / "img",
        [
            ob.Layer(
                [
                    ob.file("etc/os-release", "ID=debian\nVERSION_ID=12\n"),
                    ob.file("var/lib/dpkg/status", STATUS),
                ]
            )
        ],
        tag="v1",
    )
    return f"oci:{tmp_path / 'img'}:v1"


def test_scan_json_to_stdout_and_cache_dir(tmp_path: Path) -> None:
    ref = _image(tmp_path)
    done = _tidegate(
        "scan", ref, "--format", "json", "--cache-dir", str(tmp_path / "c"), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    [img] = json.loads(done.stdout)["images"]
    assert [p["name"] for p in img["packages"]] == ["bash"]
    assert (tmp_path / "c" / "layers.sqlite").exists()


def test_scan_output_file_each_format(tmp_path: Path) -> None:
    ref = _image(tmp_path)
    # SARIF lists findings only, and there are none until a matcher exists.
    expect = {"table": "bash", "sarif": '"2.1.0"', "cyclonedx": "bash", "spdx": "bash"}
    for fmt, needle in expect.items():
        out = tmp_path / f"report.{fmt}"
        done = _tidegate(
            "scan", ref, "--format", fmt, "--output", str(out), "--no-cache", cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == ""
        assert needle in out.read_text()


def test_fail_on_with_no_findings_exits_zero(tmp_path: Path) -> None:
    done = _tidegate(
        "scan",
        _image(tmp_path),
        "--fail-on",
        "LOW",
        "--data-dir",
        str(tmp_path / "d"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "d" / "cache" / "layers" / "layers.sqlite").exists()


def test_unreadable_image_is_a_clear_error(tmp_path: Path) -> None:
    done = _tidegate("scan", f"oci:{tmp_path}", "--no-cache", cwd=tmp_path)
    assert done.returncode == 2
    assert "not an OCI layout" in done.stderr
    bad = _tidegate("scan", _image(tmp_path), "--fail-on", "SEVERE", cwd=tmp_path)
    assert bad.returncode == 2
    assert "--fail-on" in bad.stderr


def test_sbom_command_writes_spdx_and_cyclonedx(tmp_path: Path) -> None:
    ref = _image(tmp_path)
    for fmt, key in (("spdx", "spdxVersion"), ("cyclonedx", "specVersion")):
        out = tmp_path / f"sbom.{fmt}.json"
        done = _tidegate(
            "sbom", ref, "--format", fmt, "--output", str(out), "--no-cache", cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert key in json.loads(out.read_text())
