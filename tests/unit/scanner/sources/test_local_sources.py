"""OCI layout, oci-archive, docker-archive and blob-store sources give the same inventory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import oci_build as ob
from tidegate.errors import InvalidParameter
from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.sources.layout import BlobStoreSource, OCILayoutSource
from tidegate.scanner.sources.transport import open_source, parse_registry_ref

OS_RELEASE = "ID=alpine\nVERSION_ID=3.19.1\n"


def _apk(*names: str) -> str:
    return "".join(f"P:{n}\nV:1.0-r0\nA:x86_64\no:{n}\n\n" for n in names)


def _layers() -> list[ob.Layer]:
    return [
        ob.Layer(
            [ob.file("etc/os-release", OS_RELEASE), ob.file("lib/apk/db/installed", _apk("a", "b"))]
        ),
        ob.Layer([ob.file("lib/apk/db/installed", _apk("a", "b", "c"))], compression="zstd"),
    ]


def _names(ref: str, **kw: str) -> list[tuple[str, str, str]]:
    [img] = analyze_image(open_source(ref), **kw)  # type: ignore[arg-type]
    return [(p.name, p.layer, img.inventory.platform) for p in img.inventory.packages]


def test_all_transports_agree(tmp_path: Path) -> None:
    built = ob.build_oci_layout(tmp_path / "l", _layers(), tag="v1")
    ob.write_oci_archive(tmp_path / "l", tmp_path / "o.tar")
    docker = ob.build_docker_archive(
        tmp_path / "d.tar", [ob.Layer(lay.source, "none") for lay in _layers()]
    )
    lo, l1 = built.layer_digests
    assert _names(f"oci:{tmp_path / 'l'}:v1") == [
        ("a", lo, "linux/amd64"),
        ("b", lo, "linux/amd64"),
        ("c", l1, "linux/amd64"),
    ]
    assert _names(f"oci:{tmp_path / 'l'}") == _names(f"oci:{tmp_path / 'l'}:v1")
    assert _names(f"oci-archive:{tmp_path / 'o.tar'}") == _names(f"oci:{tmp_path / 'l'}:v1")
    d0, d1 = docker.layer_digests
    assert _names(f"docker-archive:{tmp_path / 'd.tar'}") == [
        ("a", d0, "linux/amd64"),
        ("b", d0, "linux/amd64"),
        ("c", d1, "linux/amd64"),
    ]
    assert _names(f"docker-archive:{tmp_path / 'd.tar'}:tidegate-test:latest")


def test_blob_store_source_takes_a_callable(tmp_path: Path) -> None:
    built = ob.build_oci_layout(tmp_path / "l", _layers())
    layout = OCILayoutSource(tmp_path / "l")
    src = BlobStoreSource(built.manifest, layout.open_blob, reference="repo@x")
    [img] = analyze_image(src)
    assert [p.name for p in img.inventory.packages] == ["a", "b", "c"]
    assert img.manifest_digest == built.manifest_digest


def test_index_analyzes_every_platform_and_records_it(tmp_path: Path) -> None:
    images = ob.build_oci_index(
        tmp_path / "m",
        {
            "linux/amd64": _layers(),
            "linux/arm64/v8": [ob.Layer([ob.file("lib/apk/db/installed", _apk("z"))])],
        },
    )
    results = analyze_image(open_source(f"oci:{tmp_path / 'm'}:latest"))
    assert [(r.inventory.platform, r.manifest_digest) for r in results] == [
        ("linux/amd64", images["linux/amd64"].manifest_digest),
        ("linux/arm64/v8", images["linux/arm64/v8"].manifest_digest),
    ]
    only = analyze_image(open_source(f"oci:{tmp_path / 'm'}"), platform="linux/arm64/v8")
    assert [p.name for p in only[0].inventory.packages] == ["z"]
    with pytest.raises(ScanFailed, match="no manifest for platform"):
        analyze_image(open_source(f"oci:{tmp_path / 'm'}"), platform="linux/s390x")


def test_bad_references(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter):
        open_source("ftp:x")
    with pytest.raises(ScanFailed, match="not an OCI layout"):
        analyze_image(open_source(f"oci:{tmp_path}"))
    ob.build_oci_layout(tmp_path / "l", _layers(), tag="v1")
    with pytest.raises(ScanFailed, match="no image tagged"):
        analyze_image(open_source(f"oci:{tmp_path / 'l'}:nope"))
    assert parse_registry_ref("//h:5000/a/b:1") == ("h:5000", "a/b", "1")
    assert parse_registry_ref("//h/a/b") == ("h", "a/b", "latest")
    digest = "sha256:" + "0" * 64
    assert parse_registry_ref(f"//h/a@{digest}") == ("h", "a", digest)


def test_missing_blob_fails_clearly(tmp_path: Path) -> None:
    built = ob.build_oci_layout(tmp_path / "l", _layers())
    (tmp_path / "l" / "blobs" / "sha256" / built.layer_digests[1].split(":")[1]).unlink()
    with pytest.raises(ScanFailed, match="missing from the layout"):
        analyze_image(open_source(f"oci:{tmp_path / 'l'}"))


def test_docker_media_types_in_a_layout(tmp_path: Path) -> None:
    ob.build_oci_layout(tmp_path / "l", _layers(), docker_media_types=True)
    assert [n for n, _, _ in _names(f"oci:{tmp_path / 'l'}")] == ["a", "b", "c"]


def test_archives_written_by_skopeo(tmp_path: Path) -> None:
    """docker-archive and oci-archive files made by a real tool read like the layout."""
    import subprocess

    # Docker images cannot carry zstd layers, so this image is gzip throughout.
    ob.build_oci_layout(tmp_path / "l", [ob.Layer(lay.source) for lay in _layers()], tag="v1")
    src = f"oci:{tmp_path / 'l'}:v1"
    for dest in (
        f"docker-archive:{tmp_path / 'd.tar'}:app:v1",
        f"oci-archive:{tmp_path / 'o.tar'}:v1",
    ):
        subprocess.run(["skopeo", "copy", "-q", src, dest], check=True, capture_output=True)
    expected = [n for n, _, _ in _names(src)]
    assert [n for n, _, _ in _names(f"docker-archive:{tmp_path / 'd.tar'}")] == expected
    assert [n for n, _, _ in _names(f"oci-archive:{tmp_path / 'o.tar'}:v1")] == expected
