"""The one JSON form of packages and inventories: round trips, and what older versions wrote."""

from __future__ import annotations

import json

from tidegate.scanner.model import Distro, Inventory, Package, PackageManager, ScanWarning
from tidegate.scanner.model_json import (
    inventory_from_json,
    inventory_to_json,
    package_from_json,
    package_to_json,
    warning_from_json,
)

PKG = Package(
    "openssl", "3.0.11-1~deb12u2", "Debian", PackageManager.OS, "pkg:deb/debian/openssl",
    "var/lib/dpkg/status", "sha256:ab", "openssl", "3.0.11-1~deb12u2", "amd64", ("Apache-2.0",),
)  # fmt: skip


def test_an_inventory_survives_a_round_trip() -> None:
    inv = Inventory(
        Distro("debian", "12", "bookworm", "Debian GNU/Linux 12 (bookworm)"),
        (PKG, Package("flask", "3.0.0", "PyPI", PackageManager.PYTHONPKG)),
        (ScanWarning("usr/bin/x", "sha256:ab", "gobinary", "truncated"),),
        "linux/amd64",
        ("sha256:ab",),
    )
    assert inventory_from_json(json.loads(json.dumps(inventory_to_json(inv)))) == inv


def test_the_package_form_is_pinned() -> None:
    # The re-scan index hashes this text to find a package it already holds: it must not drift.
    text = json.dumps(package_to_json(PKG), sort_keys=True)
    assert text == (
        '{"arch": "amd64", "ecosystem": "Debian", "layer": "sha256:ab", "licenses": '
        '["Apache-2.0"], "name": "openssl", "package_manager": "OS", "path": '
        '"var/lib/dpkg/status", "purl": "pkg:deb/debian/openssl", "source_name": "openssl", '
        '"source_version": "3.0.11-1~deb12u2", "version": "3.0.11-1~deb12u2"}'
    )


def test_older_forms_still_read() -> None:
    # Layer-cache entries had no `layer`; early inventories no `licenses`; warnings were lists.
    old = {"name": "a", "version": "1", "ecosystem": "npm", "package_manager": "NPM"}
    assert package_from_json(old) == Package("a", "1", "npm", PackageManager.NPM)
    assert warning_from_json(["p", "l", "a", "r"]) == ScanWarning("p", "l", "a", "r")
