"""The layer cache: keyed by layer digest and analyzer name and version."""

from __future__ import annotations

from pathlib import Path

from tests.support import oci_build as ob
from tidegate.scanner.analyzers.base import Analyzer
from tidegate.scanner.analyzers.os.apk import ApkAnalyzer
from tidegate.scanner.analyzers.os.dpkg import DpkgAnalyzer
from tidegate.scanner.cache import LayerCache
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.sources.layout import OCILayoutSource


def test_put_get_and_version_bump_replaces_only_that_analyzer(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    cache.put("sha256:a", "os/dpkg", 1, b"one")
    cache.put("sha256:a", "os/apk", 1, b"apk")
    cache.put("sha256:b", "os/dpkg", 1, b"other layer")
    cache.put("sha256:a", "os/dpkg", 2, b"two")
    assert cache.get("sha256:a", "os/dpkg", 1) is None
    assert cache.get("sha256:a", "os/dpkg", 2) == b"two"
    assert cache.get_layer("sha256:a") == {("os/dpkg", 2): b"two", ("os/apk", 1): b"apk"}
    assert cache.get("sha256:b", "os/dpkg", 1) == b"other layer"
    cache.close()
    assert LayerCache(tmp_path).count() == 3  # persisted


def test_shared_base_layer_is_analyzed_once(tmp_path: Path) -> None:
    base = ob.Layer([ob.file("lib/apk/db/installed", "P:musl\nV:1\n")])
    one = ob.build_oci_layout(tmp_path / "one", [base, ob.Layer([ob.file("x", "1")])])
    two = ob.build_oci_layout(tmp_path / "two", [base, ob.Layer([ob.file("y", "2")])])
    assert one.layer_digests[0] == two.layer_digests[0]
    analyzers: list[Analyzer] = [ApkAnalyzer(), DpkgAnalyzer()]
    analyze_image(OCILayoutSource(tmp_path / "one"), cache_dir=tmp_path / "c", analyzers=analyzers)
    # The shared blob is gone from the second layout: a cache hit is the only way through.
    (tmp_path / "two" / "blobs" / "sha256" / two.layer_digests[0].split(":")[1]).unlink()
    [img] = analyze_image(
        OCILayoutSource(tmp_path / "two"), cache_dir=tmp_path / "c", analyzers=analyzers
    )
    assert [(p.name, p.layer) for p in img.inventory.packages] == [("musl", two.layer_digests[0])]
