"""docker:// sources against real loopback HTTP registries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import oci_build as ob
from tests.support.registry_server import DistributionRegistry, TokenRegistry
from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.sources.remote import RemoteSource
from tidegate.scanner.sources.transport import open_source

STATUS = "Package: {}\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n"


def _layers(pkg: str = "a") -> list[ob.Layer]:
    return [
        ob.Layer([ob.file("etc/os-release", "ID=debian\nVERSION_ID=12\n")]),
        ob.Layer([ob.file("var/lib/dpkg/status", STATUS.format(pkg))], compression="zstd"),
    ]


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[DistributionRegistry]:
    with DistributionRegistry(tmp_path / "reg") as reg:
        yield reg


def test_pull_from_distribution_registry(registry: DistributionRegistry, tmp_path: Path) -> None:
    ob.build_oci_layout(tmp_path / "l", _layers())
    registry.push(f"oci:{tmp_path / 'l'}:latest", "team/app:1.0")
    [img] = analyze_image(open_source(f"docker://{registry.host}/team/app:1.0", insecure=True))
    [pkg] = img.inventory.packages
    assert (pkg.name, pkg.purl) == ("a", "pkg:deb/debian/a@1?arch=all&distro=debian-12")
    [local] = analyze_image(open_source(f"oci:{tmp_path / 'l'}"))
    assert img.inventory == local.inventory


def test_pull_multi_platform_index(registry: DistributionRegistry, tmp_path: Path) -> None:
    ob.build_oci_index(tmp_path / "m", {"linux/amd64": _layers("x"), "linux/arm64": _layers("y")})
    registry.push(f"oci:{tmp_path / 'm'}:latest", "multi:1", all_platforms=True)
    results = analyze_image(open_source(f"docker://{registry.host}/multi:1", insecure=True))
    assert {(r.inventory.platform, r.inventory.packages[0].name) for r in results} == {
        ("linux/amd64", "x"),
        ("linux/arm64", "y"),
    }


def test_unknown_tag_fails_clearly(registry: DistributionRegistry) -> None:
    with pytest.raises(ScanFailed, match="HTTP 404"):
        analyze_image(open_source(f"docker://{registry.host}/nope:1", insecure=True))


@pytest.mark.parametrize("mode", ["bearer", "basic"])
def test_auth_challenges(mode: str, tmp_path: Path) -> None:
    ob.build_oci_layout(tmp_path / "l", _layers())
    server = TokenRegistry(tmp_path / "l", "private/app", "alice", "s3cret", mode)
    try:
        good = RemoteSource(
            server.host, "private/app", "v1", username="alice", password="s3cret", insecure=True
        )
        [img] = analyze_image(good)
        assert [p.name for p in img.inventory.packages] == ["a"]
        anon = RemoteSource(server.host, "private/app", "v1", insecure=True)
        with pytest.raises(ScanFailed):
            analyze_image(anon)
        server.corrupt_blobs = True
        again = RemoteSource(
            server.host, "private/app", "v1", username="alice", password="s3cret", insecure=True
        )
        with pytest.raises(ScanFailed, match="does not match its digest"):
            analyze_image(again)
    finally:
        server.close()
