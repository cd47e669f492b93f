"""Hostile and broken layers: each is contained, skipped with a warning, or fails clearly."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zlib
from pathlib import Path

import pytest
import zstandard

from tests.support import oci_build as ob
from tidegate.scanner.analyzers.os.dpkg import DpkgAnalyzer
from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.image.limits import Limits
from tidegate.scanner.inventory import ImageInventory, analyze_image
from tidegate.scanner.sources.layout import OCILayoutSource

STATUS = "Package: a\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"
OS_RELEASE = "ID=debian\nVERSION_ID=12\n"


def _scan(tmp_path: Path, layers: list[ob.Layer | ob.RawLayer], **kw: object) -> ImageInventory:
    ob.build_oci_layout(tmp_path / "img", layers)
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    [img] = analyze_image(
        OCILayoutSource(tmp_path / "img"),
        analyzers=[DpkgAnalyzer()],
        scratch_dir=scratch,
        **kw,  # type: ignore[arg-type]
    )
    assert list(scratch.iterdir()) == []  # scratch space is cleaned up
    return img


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_path_traversal_and_absolute_names_are_skipped(tmp_path: Path) -> None:
    before = _tree(tmp_path.parent)
    img = _scan(
        tmp_path,
        [
            ob.Layer(
                [
                    ob.Member("../../escape-status", data=STATUS.encode()),
                    ob.Member("/var/lib/dpkg/status", data=STATUS.encode()),
                    ob.Member("var/../../var/lib/dpkg/status", data=STATUS.encode()),
                ]
            )
        ],
    )
    assert img.inventory.packages == ()
    reasons = sorted(w.reason for w in img.inventory.warnings)
    assert reasons == [
        "absolute path in layer",
        "path traversal ('..') in layer",
        "path traversal ('..') in layer",
    ]
    assert not (tmp_path.parent.parent / "escape-status").exists()
    assert not (tmp_path / "escape-status").exists()
    assert _tree(tmp_path.parent) - before <= {tmp_path.name} | {
        str(p.relative_to(tmp_path.parent)) for p in tmp_path.rglob("*")
    }


def test_symlinks_outside_the_image_resolve_inside_it(tmp_path: Path) -> None:
    host_file = tmp_path / "host-os-release"
    host_file.write_text("ID=hostos\nVERSION_ID=99\n")
    img = _scan(
        tmp_path,
        [
            ob.Layer(
                [
                    ob.symlink("etc/os-release", f"../../../../..{host_file}"),
                    ob.symlink("usr/lib/os-release", str(host_file)),
                ]
            )
        ],
    )
    assert img.inventory.distro is None  # never read from the host


def test_symlink_loop_is_a_warning(tmp_path: Path) -> None:
    img = _scan(
        tmp_path,
        [
            ob.Layer(
                [
                    ob.symlink("etc/os-release", "os-release2"),
                    ob.symlink("etc/os-release2", "os-release"),
                ]
            )
        ],
    )
    assert img.inventory.distro is None
    assert any("loop" in w.reason for w in img.inventory.warnings)


def test_relative_symlink_across_layers_is_followed(tmp_path: Path) -> None:
    img = _scan(
        tmp_path,
        [
            ob.Layer([ob.file("usr/lib/os-release", OS_RELEASE)]),
            ob.Layer([ob.symlink("etc/os-release", "../usr/lib/os-release")]),
        ],
    )
    assert img.inventory.distro is not None
    assert img.inventory.distro.id == "debian"


def test_hard_link_outside_is_a_warning_inside_is_followed(tmp_path: Path) -> None:
    img = _scan(
        tmp_path,
        [
            ob.Layer(
                [
                    ob.file("tmp/status", STATUS),
                    ob.hardlink("var/lib/dpkg/status.d/evil", "../../../etc/shadow"),
                ]
            )
        ],
    )
    assert [w.reason for w in img.inventory.warnings] == ["hard link points outside the image"]
    img = _scan(
        tmp_path / "b",
        [
            ob.Layer(
                [
                    ob.file("var/lib/dpkg/status", STATUS),
                    ob.hardlink("var/lib/dpkg/status.d/a", "var/lib/dpkg/status"),
                ]
            )
        ],
    )
    assert [p.path for p in img.inventory.packages] == ["var/lib/dpkg/status"]  # de-duplicated


def _bomb(size: int) -> bytes:
    """A gzip layer whose tar holds one file of `size` zero bytes, built without the bytes."""
    head = tarfile.TarInfo("zeros")
    head.size = size
    hdr = head.tobuf(format=tarfile.GNU_FORMAT)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = io.BytesIO()
    out.write(comp.compress(hdr))
    chunk = b"\0" * (1 << 20)
    for _ in range(size >> 20):
        out.write(comp.compress(chunk))
    out.write(comp.compress(b"\0" * 1024))
    out.write(comp.flush())
    return out.getvalue()


def test_gzip_bomb_fails_the_scan(tmp_path: Path) -> None:
    bomb = _bomb(128 << 20)
    assert len(bomb) < 200_000
    with pytest.raises(ScanFailed, match="decompression bomb"):
        _scan(tmp_path, [ob.RawLayer(bomb)], limits=Limits(max_layer_bytes=32 << 20))
    with pytest.raises(ScanFailed, match="ratio"):
        _scan(tmp_path / "r", [ob.RawLayer(bomb)], limits=Limits(ratio_after=8 << 20))


def test_zstd_bomb_fails_the_scan(tmp_path: Path) -> None:
    head = tarfile.TarInfo("zeros")
    head.size = 512 << 20
    cctx = zstandard.ZstdCompressor(level=3)
    out = io.BytesIO()
    with cctx.stream_writer(out, closefd=False) as writer:
        writer.write(head.tobuf(format=tarfile.GNU_FORMAT))
        chunk = b"\0" * (1 << 20)
        for _ in range(512):
            writer.write(chunk)
    bomb = out.getvalue()
    assert len(bomb) < 100_000
    media = "application/vnd.oci.image.layer.v1.tar+zstd"
    with pytest.raises(ScanFailed, match="ratio"):
        _scan(tmp_path, [ob.RawLayer(bomb, media)], limits=Limits(ratio_after=32 << 20))


def test_file_claiming_terabytes(tmp_path: Path) -> None:
    liar = ob.Member("var/lib/dpkg/status", data=STATUS.encode(), size=4 << 40)
    with pytest.raises(ScanFailed, match="truncated or corrupt tar"):
        _scan(tmp_path, [ob.Layer([liar], compression="none")])


def test_oversized_package_db_is_skipped_with_warning(tmp_path: Path) -> None:
    big = STATUS.encode() + b"X" * (DpkgAnalyzer.max_file_size + 1)
    img = _scan(tmp_path, [ob.Layer([ob.file("var/lib/dpkg/status", big)], compression="zstd")])
    assert img.inventory.packages == ()
    [w] = img.inventory.warnings
    assert "exceeds" in w.reason
    assert w.analyzer == "os/dpkg"


def _tar(members: list[ob.Member]) -> bytes:
    out = io.BytesIO()
    ob._write_tar(members, out)
    return out.getvalue()


def test_truncated_tar_fails(tmp_path: Path) -> None:
    raw = _tar([ob.file("var/lib/dpkg/status", STATUS * 200)])
    with pytest.raises(ScanFailed, match="truncated"):
        _scan(tmp_path, [ob.RawLayer(gzip.compress(raw[:1500]))])


def test_corrupt_gzip_fails(tmp_path: Path) -> None:
    blob = bytearray(gzip.compress(_tar([ob.file("a", os.urandom(5000))])))
    blob[100:110] = b"\xff" * 10
    with pytest.raises(ScanFailed, match="gzip"):
        _scan(tmp_path, [ob.RawLayer(bytes(blob))])


def test_corrupt_zstd_fails(tmp_path: Path) -> None:
    # Real zstd layers carry a frame checksum (as Docker and containerd write them).
    blob = bytearray(
        zstandard.ZstdCompressor(write_checksum=True).compress(
            _tar([ob.file("a", os.urandom(5000))])
        )
    )
    blob[-2] ^= 0xFF
    media = "application/vnd.oci.image.layer.v1.tar+zstd"
    with pytest.raises(ScanFailed, match="zstd"):
        _scan(tmp_path, [ob.RawLayer(bytes(blob), media)])


def test_garbage_package_database_is_a_warning(tmp_path: Path) -> None:
    img = _scan(tmp_path, [ob.Layer([ob.file("var/lib/dpkg/status", b"\x00\xff garbage\n")])])
    assert img.inventory.packages == ()
    [w] = img.inventory.warnings
    assert w.path == "var/lib/dpkg/status"
    assert w.analyzer == "os/dpkg"


def test_whiteouts_and_opaque_directories(tmp_path: Path) -> None:
    one = "Package: one\nVersion: 1\nArchitecture: all\n"
    two = "Package: two\nVersion: 2\nArchitecture: all\n"
    img = _scan(
        tmp_path,
        [
            ob.Layer(
                [
                    ob.file("var/lib/dpkg/status.d/one", one),
                    ob.file("var/lib/dpkg/status.d/two", two),
                ]
            ),
            ob.Layer([ob.whiteout("var/lib/dpkg/status.d/one")]),
        ],
    )
    assert [p.name for p in img.inventory.packages] == ["two"]
    img = _scan(
        tmp_path / "b",
        [
            ob.Layer([ob.file("var/lib/dpkg/status.d/one", one)]),
            ob.Layer(
                [ob.opaque("var/lib/dpkg/status.d"), ob.file("var/lib/dpkg/status.d/two", two)]
            ),
        ],
    )
    assert [p.name for p in img.inventory.packages] == ["two"]
    img = _scan(
        tmp_path / "c",
        [ob.Layer([ob.file("var/lib/dpkg/status.d/one", one)]), ob.Layer([ob.whiteout("var/lib")])],
    )
    assert img.inventory.packages == ()
