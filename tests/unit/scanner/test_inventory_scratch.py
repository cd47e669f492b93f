"""Images without an OS package database still yield their language packages."""

from __future__ import annotations

from pathlib import Path

from tests.support import oci_build as ob
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.model import PackageManager
from tidegate.scanner.sources.transport import open_source

METADATA = "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n"


def test_scratch_image_with_a_python_package(tmp_path: Path) -> None:
    ob.build_oci_layout(
        tmp_path / "l",
        [ob.Layer([ob.file("app/site-packages/requests-2.31.0.dist-info/METADATA", METADATA)])],
    )
    [img] = analyze_image(open_source(f"oci:{tmp_path / 'l'}"))
    assert img.inventory.distro is None
    [pkg] = img.inventory.packages
    assert (pkg.name, pkg.version, pkg.package_manager) == (
        "requests",
        "2.31.0",
        PackageManager.PYTHONPKG,
    )
    assert pkg.layer == img.inventory.layers[0]


def test_unrecognised_os_is_reported_not_an_error(tmp_path: Path) -> None:
    status = "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n"
    ob.build_oci_layout(
        tmp_path / "l",
        [
            ob.Layer(
                [
                    ob.file("etc/os-release", "ID=exoticos\nVERSION_ID=7\n"),
                    ob.file("var/lib/dpkg/status", status),
                ]
            )
        ],
    )
    [img] = analyze_image(open_source(f"oci:{tmp_path / 'l'}"))
    assert img.inventory.distro is not None
    assert not img.inventory.distro.recognised
    [pkg] = img.inventory.packages
    assert pkg.purl == "pkg:deb/exoticos/a@1?arch=all&distro=exoticos-7"
