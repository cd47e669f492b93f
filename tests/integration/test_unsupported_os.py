"""A recognised OS with no vulnerability data never scans clean.

Real images: an rpm database written by Debian's rpm under SLES, openSUSE Leap and Wolfi
os-release files (no feed exists for them), and a Debian 7 dpkg status (the DB holds no
Debian:7 data), pushed with skopeo to a real server; `tidegate scan` run as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import oci_build as ob
from tests.support import rpm_db
from tests.support.scan_fixtures import advisory, db_update, mirror, skopeo_push
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OS_RELEASES = {
    "sles": 'NAME="SLES"\nID="sles"\nVERSION_ID="15.5"\n',
    "leap": 'NAME="openSUSE Leap"\nID="opensuse-leap"\nVERSION_ID="15.5"\n',
    "wolfi": 'ID=wolfi\nNAME="Wolfi"\nVERSION_ID=20230201\n',
}
DEBIAN_RECORD = {
    "schema_version": "1.4.0",
    "id": "DSA-0000-1",
    "modified": "2024-01-01T00:00:00Z",
    "aliases": ["CVE-2022-37434"],
    "affected": [{
        "package": {"ecosystem": "Debian:12", "name": "zlib"},
        "ranges": [
            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.2.13.dfsg-1"}]}
        ],
    }],
}  # fmt: skip
LODASH = b'{"name":"lodash","version":"4.17.15"}'
DPKG_STATUS = (
    "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.7.dfsg-13\n"
    "Architecture: amd64\nSource: zlib\n\n"
)


def _rpm_members() -> list[ob.Member]:
    db = rpm_db.sqlite_db() / "rpmdb.sqlite"
    return [ob.file("var/lib/rpm/rpmdb.sqlite", db.read_bytes())]


def _image(dest: Path, os_release: str, members: list[ob.Member], app: bool = True) -> Path:
    app_files = [ob.file("app/node_modules/lodash/package.json", LODASH)] if app else []
    layer = ob.Layer([ob.file("etc/os-release", os_release), *members, *app_files])
    ob.build_oci_layout(dest, [layer], tag="v1")
    return dest


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("unsupported")
    out = {name: _image(root / name, text, _rpm_members()) for name, text in OS_RELEASES.items()}
    debian7 = 'ID=debian\nVERSION_ID="7"\nPRETTY_NAME="Debian GNU/Linux 7 (wheezy)"\n'
    out["debian7"] = _image(
        root / "debian7", debian7, [ob.file("var/lib/dpkg/status", DPKG_STATUS)]
    )
    out["wolfi-os"] = _image(root / "wolfi-os", OS_RELEASES["wolfi"], _rpm_members(), app=False)
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("db")
    record = advisory("GHSA-p6mc-m468-83gw", "CVE-2020-8203", "lodash", "4.17.19")
    source = mirror(root / "mirror", [record])
    # The Debian feed with bookworm data only, so Debian 7 is a release the feed lacks.
    debian = source / "debian-osv" / "debian-osv.tar.xz"
    debian.mkdir(parents=True)
    (debian / "DSA-0000-1.json").write_text(json.dumps(DEBIAN_RECORD))
    data = root / "data"
    db_update(data, source, only="ghsa-npm")
    db_update(data, source, only="debian-osv")
    return data


def _wait(ecr: Any, repo: str) -> dict[str, Any]:
    """The findings once the scan left PENDING/IN_PROGRESS (the waiter fails on UNSUPPORTED)."""
    deadline = time.monotonic() + 90
    while True:
        out = ecr.describe_image_scan_findings(repositoryName=repo, imageId={"imageTag": "v1"})
        if out["imageScanStatus"]["status"] not in ("PENDING", "IN_PROGRESS"):
            found: dict[str, Any] = out
            return found
        assert time.monotonic() < deadline, out
        time.sleep(0.5)


def test_basic_scan_of_an_os_without_data_is_unsupported(
    data: Path, images: dict[str, Path]
) -> None:
    with TidegateServer(data, env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as server:
        ecr = server.ecr()
        expected = {
            "sles": "SUSE Linux Enterprise Server 15.5",
            "leap": "openSUSE Leap 15.5",
            "wolfi": "Wolfi 20230201",
            "debian7": "Debian 7",
        }
        for name, release in expected.items():
            ecr.create_repository(
                repositoryName=f"os/{name}", imageScanningConfiguration={"scanOnPush": True}
            )
            skopeo_push(server.host, images[name], f"os/{name}:v1")
            out = _wait(ecr, f"os/{name}")
            status = out["imageScanStatus"]
            assert status["status"] == "UNSUPPORTED_IMAGE", (name, status)
            assert release in status["description"], status
            assert "not checked" in status["description"]
            assert out["imageScanFindings"].get("findings", []) == []


def test_enhanced_scan_checks_language_packages_and_says_the_os_was_not(
    data: Path, images: dict[str, Path]
) -> None:
    with TidegateServer(data, env={"TIDEGATE_ANONYMOUS_ACCESS": "push"}) as server:
        ecr = server.ecr()
        ecr.put_registry_scanning_configuration(
            scanType="ENHANCED",
            rules=[{"scanFrequency": "SCAN_ON_PUSH",
                    "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}],
        )  # fmt: skip
        ecr.create_repository(repositoryName="enhanced/sles")
        skopeo_push(server.host, images["sles"], "enhanced/sles:v1")
        out = _wait(ecr, "enhanced/sles")
        status = out["imageScanStatus"]
        assert status["status"] == "COMPLETE", status
        assert "OS packages were not checked" in status["description"]
        assert "SUSE Linux Enterprise Server 15.5" in status["description"]
        ids = {
            f["packageVulnerabilityDetails"]["vulnerabilityId"]
            for f in out["imageScanFindings"]["enhancedFindings"]
        }
        assert "CVE-2020-8203" in ids


def test_cli_scan_warns_and_fail_on_exits_3(data: Path, images: dict[str, Path]) -> None:
    def scan(image: str, *flags: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "tidegate", "scan", f"oci:{images[image]}:v1",
                "--data-dir", str(data), *flags]  # fmt: skip
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    plain = scan("wolfi-os")
    assert plain.returncode == 0, plain.stderr
    assert "warning" in plain.stderr
    assert "Wolfi 20230201" in plain.stderr
    assert scan("wolfi-os", "--fail-on", "LOW").returncode == 3
    # With lodash's CRITICAL finding beside the unchecked OS, the findings' exit code wins.
    assert scan("wolfi", "--fail-on", "CRITICAL").returncode == 1
