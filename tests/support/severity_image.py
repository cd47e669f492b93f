"""The Debian test image with an old npm package on top, for severity and fix-state tests.

Layer 1 is the debootstrap'd bookworm of `debian_image` (Debian findings, none fixed in
bookworm yet); layer 2 adds lodash 4.17.15, which GitHub's advisories say is fixed in
4.17.19 / 4.17.21 (findings with a fixed version). Cached under .cache/ like the others.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support import debian_image
from tests.support import oci_build as ob

LODASH = {"name": "lodash", "version": "4.17.15"}


def layout() -> Path:
    """An OCI layout tagged `v1`: bookworm minbase plus `srv/node_modules/lodash`."""
    dest = debian_image.CACHE / "debian-lodash-layout"
    marker = dest / "built.json"
    if not marker.exists():
        shutil.rmtree(dest, ignore_errors=True)
        package = ob.file("srv/node_modules/lodash/package.json", json.dumps(LODASH).encode())
        layers = [ob.Layer(debian_image.base_rootfs(), compression="gzip"), ob.Layer([package])]
        img = ob.build_oci_layout(dest, layers, tag="v1")
        marker.write_text(img.manifest_digest)
    return dest
