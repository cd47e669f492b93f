"""The spliced JSON of DescribeImageScanFindings is exactly the enhanced finding it replaces."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from tidegate.engine.finding_shapes import (
    ImageContext,
    dynamic_part,
    enhanced_finding,
    enhanced_finding_json,
    image_resources,
    inspector_dynamic_part,
    inspector_resources,
    render_static_part,
    static_part,
)
from tidegate.events.inspector import to_inspector_finding
from tidegate.events.model import Origin

ORIGIN = Origin("123456789012", "eu-west-1")
IMAGE = ImageContext(
    "team/app", "sha256:" + "c" * 64, ["v1", "latest"], 1700000000.5, "linux/arm64"
)


def _row(**overrides: Any) -> dict[str, Any]:
    details = {
        "aliases": ["DSA-5000-1"],
        "description": "Heap overflow in \u00e9l\u00e9ment parsing",
        "references": [f"https://example.org/{i}" for i in range(60)],
        "source": "debian-osv",
        "vendor_severity": "high",
        "arch": "amd64",
        "cvss": [
            {"type": "CVSS_V3", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
             "score": 9.8},
            {"type": "CVSS_V2", "vector": "AV:N/AC:L/Au:N/C:P/I:P/A:P", "score": 7.5},
        ],
    }  # fmt: skip
    row: dict[str, Any] = {
        "finding_key": "ab" * 16,
        "vuln_id": "CVE-2024-0001",
        "package_name": "openssl",
        "package_version": "1:3.0.11-1~deb12u2",
        "package_manager": "OS",
        "file_path": "var/lib/dpkg/status",
        "layer": "sha256:" + "a" * 64,
        "severity": "HIGH",
        "score": 9.8,
        "fixed_in": "1:3.0.13-1~deb12u1",
        "fix_available": "YES",
        "exploit_available": "NO",
        "status": "ACTIVE",
        "details": json.dumps(details),
        "first_observed_at": 1700000001.25,
        "last_observed_at": 1700000002.0,
        "updated_at": 1700000003.0,
    }
    row.update(overrides)
    return row


ROWS = [
    _row(),
    _row(package_manager="PYTHONPKG", package_version="2.25.1", file_path="", fixed_in="",
         fix_available="NO", score=None, details=json.dumps({"description": ""})),
    _row(package_version="3.0.11", severity="UNTRIAGED", exploit_available="YES",
         details=json.dumps({"cvss": [{"type": "CVSS_V3", "vector": "CVSS:3.0/AV:L",
                                       "score": None}]})),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS)
@pytest.mark.parametrize("stored", [True, False], ids=["stored-shape", "no-shape"])
def test_spliced_json_equals_the_enhanced_finding(row: dict[str, Any], stored: bool) -> None:
    with_shape = {**row, "shape": render_static_part(row) if stored else None}
    spliced = orjson.loads(
        enhanced_finding_json(with_shape, ORIGIN, image_resources(ORIGIN, IMAGE))
    )
    assert spliced == enhanced_finding(row, ORIGIN, IMAGE)


def test_stored_shape_is_used_as_is() -> None:
    # A stale shape shows that the stored text, not a re-render, is what is served.
    row = {**_row(), "shape": orjson.dumps({"title": "stored"}).decode()}
    spliced = orjson.loads(enhanced_finding_json(row, ORIGIN, []))
    assert spliced["title"] == "stored"
    assert spliced["findingArn"].endswith("ab" * 16)


@pytest.mark.parametrize("row", ROWS)
def test_inspector_spelling_converts_the_parts_independently(row: dict[str, Any]) -> None:
    # engine.notify converts the shared static part once and the image's members per event.
    whole = to_inspector_finding(enhanced_finding(row, ORIGIN, IMAGE))
    parts = {
        **to_inspector_finding(dynamic_part(row, ORIGIN, image_resources(ORIGIN, IMAGE))),
        **to_inspector_finding(static_part(row)),
    }
    assert parts == whole
    assert "inspectorScore" in whole or row["score"] is None


@pytest.mark.parametrize("row", ROWS)
def test_direct_inspector_dynamic_part_equals_the_conversion(row: dict[str, Any]) -> None:
    resources = inspector_resources(ORIGIN, IMAGE)
    assert (
        resources
        == (to_inspector_finding({"resources": image_resources(ORIGIN, IMAGE)})["resources"])
    )
    converted = to_inspector_finding(dynamic_part(row, ORIGIN, image_resources(ORIGIN, IMAGE)))
    assert inspector_dynamic_part(row, ORIGIN, resources) == converted
