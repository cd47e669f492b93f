"""Each scan budget on its own, at the library level: a small limit, an image just past it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import oci_build as ob
from tidegate.scanner.analyzers.os.dpkg import DpkgAnalyzer
from tidegate.scanner.image.limits import BudgetExceeded, Limits
from tidegate.scanner.inventory import ImageInventory, analyze_image
from tidegate.scanner.sources.layout import OCILayoutSource

STATUS = b"Package: a\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"


def scan(tmp_path: Path, layers: list[ob.Layer | ob.RawLayer], limits: Limits) -> ImageInventory:
    ob.build_oci_layout(tmp_path / "img", layers)
    [img] = analyze_image(
        OCILayoutSource(tmp_path / "img"), analyzers=[DpkgAnalyzer()], limits=limits
    )
    return img


def files(count: int, size: int = 0, prefix: str = "f") -> ob.Layer:
    return ob.Layer([ob.file(f"{prefix}{i}", b"x" * size) for i in range(count)])


def test_files_per_image_counts_every_layer(tmp_path: Path) -> None:
    limits = Limits(max_files=100)
    scan(tmp_path / "ok", [files(50), files(50, prefix="g")], limits)
    with pytest.raises(BudgetExceeded) as caught:
        scan(tmp_path / "over", [files(60), files(60, prefix="g")], limits)
    assert caught.value.budget == "max_files_per_image"
    assert "layer sha256:" in caught.value.message


def test_image_bytes_count_every_layer(tmp_path: Path) -> None:
    limits = Limits(max_image_bytes=3 << 20)
    with pytest.raises(BudgetExceeded) as caught:
        scan(tmp_path, [files(1, 2 << 20), files(1, 2 << 20, prefix="g")], limits)
    assert caught.value.budget == "max_image_uncompressed_bytes"


def test_layer_bytes(tmp_path: Path) -> None:
    with pytest.raises(BudgetExceeded) as caught:
        scan(tmp_path, [files(1, 3 << 20)], Limits(max_layer_bytes=2 << 20))
    assert caught.value.budget == "max_layer_uncompressed_bytes"


def test_ratio_applies_only_past_its_threshold(tmp_path: Path) -> None:
    zeros = ob.Layer([ob.file("zeros", bytes(4 << 20))])
    scan(tmp_path / "small", [zeros], Limits(max_ratio=10, ratio_after=8 << 20))
    with pytest.raises(BudgetExceeded) as caught:
        scan(tmp_path / "past", [zeros], Limits(max_ratio=10, ratio_after=1 << 20))
    assert caught.value.budget == "max_compression_ratio"


def test_metadata_file_cap_skips_the_file_with_a_warning(tmp_path: Path) -> None:
    status = STATUS + b"X" * 4096
    layer = ob.Layer([ob.file("var/lib/dpkg/status", status)])
    img = scan(tmp_path, [layer], Limits(max_metadata_file_bytes=1024))
    assert img.inventory.packages == ()
    assert any("exceeds the 1024-byte limit" in w.reason for w in img.inventory.warnings)


def test_config_bytes(tmp_path: Path) -> None:
    with pytest.raises(BudgetExceeded) as caught:
        scan(tmp_path, [files(1)], Limits(max_config_bytes=16))
    assert caught.value.budget == "max_config_bytes"
