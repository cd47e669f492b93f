"""A real debootstrap Debian image in three layers, checked against dpkg-query itself.

Layer 1 is the minbase rootfs, layer 2 installs `hello` with apt, layer 3 purges it again
(see tests/support/debian_image.py for how the cached fixture is built).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import BinaryIO

import pytest

from tests.support import debian_image
from tests.support import oci_build as ob
from tidegate.scanner.analyzers.os.dpkg import DpkgAnalyzer
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.sources.layout import BlobStoreSource, OCILayoutSource

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def debian() -> tuple[Path, list[str]]:
    layout, _ = debian_image.debian_layout()
    src = OCILayoutSource(layout, "three")
    manifest = json.loads(src.root())
    return layout, [lay["digest"] for lay in manifest["layers"]]


def _two_layer(tmp_path: Path, layout: Path, digests: list[str]) -> OCILayoutSource:
    """The same blobs with a manifest naming only the first two layers (hello installed)."""
    dest = tmp_path / "two"
    shutil.copytree(layout / "blobs", dest / "blobs", copy_function=os.symlink)
    manifest = json.loads(OCILayoutSource(layout, "three").root())
    manifest["layers"] = manifest["layers"][:2]
    data = json.dumps(manifest).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (dest / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    (dest / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    entry = {"mediaType": ob.OCI_MANIFEST, "digest": digest, "size": len(data)}
    (dest / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))
    return OCILayoutSource(dest)


def test_three_layers_equal_dpkg_query_after_purge(debian: tuple[Path, list[str]]) -> None:
    layout, digests = debian
    _base, _hello, purged = debian_image.stages()
    [img] = analyze_image(OCILayoutSource(layout, "three"))
    inv = img.inventory
    assert {(p.name, p.version, p.arch) for p in inv.packages} == debian_image.dpkg_truth(purged)
    assert "hello" not in {p.name for p in inv.packages}
    assert {p.layer for p in inv.packages} == {digests[0]}
    assert inv.distro is not None
    assert (inv.distro.id, inv.distro.version_id) == ("debian", "12")
    assert inv.warnings == ()
    assert inv.layers == tuple(digests)


def test_two_layers_attribute_hello_to_its_layer(
    debian: tuple[Path, list[str]], tmp_path: Path
) -> None:
    layout, digests = debian
    _base, with_hello, _purged = debian_image.stages()
    [img] = analyze_image(_two_layer(tmp_path, layout, digests))
    pkgs = {(p.name, p.version, p.arch): p for p in img.inventory.packages}
    assert set(pkgs) == debian_image.dpkg_truth(with_hello)
    with_source = {
        (p.name, p.version, p.arch, p.source_name, p.source_version) for p in pkgs.values()
    }
    assert with_source == debian_image.dpkg_truth_with_source(with_hello)
    hello = next(p for k, p in pkgs.items() if k[0] == "hello")
    assert hello.layer == digests[1]
    assert hello.purl.startswith("pkg:deb/debian/hello@")
    assert "distro=debian-12" in hello.purl
    assert {p.layer for p in pkgs.values() if p.name != "hello"} == {digests[0]}


def test_warm_cache_reads_no_layer_and_version_bump_rereads(
    debian: tuple[Path, list[str]], tmp_path: Path
) -> None:
    layout, digests = debian
    plain = OCILayoutSource(layout, "three")
    opened: list[str] = []

    def open_blob(digest: str) -> BinaryIO:
        opened.append(digest)
        return plain.open_blob(digest)

    source = BlobStoreSource(plain.root(), open_blob)
    cache = tmp_path / "cache"
    cold = analyze_image(source, cache_dir=cache)
    assert set(digests) <= set(opened)
    opened.clear()
    warm = analyze_image(source, cache_dir=cache)
    assert set(opened) & set(digests) == set()
    assert warm[0].inventory == cold[0].inventory

    class DpkgV2(DpkgAnalyzer):
        version = DpkgAnalyzer.version + 1

    bumped = analyze_image(source, cache_dir=cache, analyzers=[DpkgV2()])
    assert set(digests) <= set(opened)
    assert bumped[0].inventory.packages == cold[0].inventory.packages
