"""VEX documents as statements: OpenVEX 0.2 and CycloneDX VEX, and the malformed ones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tidegate.scanner import vex

IMAGE = "sha256:" + "ab" * 32
LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"


def openvex(*statements: dict[str, Any]) -> bytes:
    return json.dumps({
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
        "author": "security@example.com", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
        "statements": list(statements),
    }).encode()  # fmt: skip


def test_openvex_statements_keep_status_justification_and_packages() -> None:
    fmt, found = vex.parse(openvex(
        {"vulnerability": {"name": "CVE-2021-44228"}, "status": "not_affected",
         "justification": "vulnerable_code_not_in_execute_path",
         "impact_statement": "JNDI lookups are disabled",
         "products": [{"@id": f"pkg:oci/app@{IMAGE}", "subcomponents": [{"@id": LOG4J}]}]},
        {"vulnerability": {"name": "CVE-2021-45046"}, "status": "under_investigation"},
    ))  # fmt: skip
    assert fmt == "openvex"
    first, second = found
    assert (first.vuln_id, first.status, first.justification) == (
        "CVE-2021-44228", "not_affected", "vulnerable_code_not_in_execute_path"
    )  # fmt: skip
    assert first.statement == "JNDI lookups are disabled"
    assert "org.apache.logging.log4j:log4j-core" in first.package_names
    assert "log4j-core" in first.package_names
    assert first.image_digests == (IMAGE,)
    assert (second.status, second.package_names, second.image_digests) == (
        "under_investigation", (), ()
    )  # fmt: skip


def test_cyclonedx_analysis_states_map_to_vex_statuses() -> None:
    doc = {
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "components": [{"bom-ref": "log4j", "purl": LOG4J}],
        "vulnerabilities": [
            {"id": "CVE-2021-44228", "analysis": {"state": "false_positive",
                                                  "detail": "not our log4j"},
             "affects": [{"ref": "log4j"}]},
            {"id": "CVE-2021-45046", "analysis": {"state": "exploitable"},
             "affects": [{"ref": f"urn:cdx:1/1#{LOG4J}"}]},
            {"id": "CVE-2020-0001"},  # no analysis: no claim
        ],
    }  # fmt: skip
    fmt, found = vex.parse(json.dumps(doc).encode())
    assert fmt == "cyclonedx"
    assert [(s.vuln_id, s.status, s.statement) for s in found] == [
        ("CVE-2021-44228", "not_affected", "not our log4j"), ("CVE-2021-45046", "affected", ""),
    ]  # fmt: skip
    assert all("log4j-core" in s.package_names for s in found)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"hello": 1}', "neither OpenVEX"),
        (openvex(), "at least one statement"),
        (openvex({"status": "fixed"}), "vulnerability"),
        (openvex({"vulnerability": {"name": "CVE-1"}, "status": "maybe"}), "status"),
        (openvex({"vulnerability": {"name": "CVE-1"}, "status": "not_affected"}),
         "justification or an impact_statement"),
        (openvex({"vulnerability": {"name": "CVE-1"}, "status": "not_affected",
                  "justification": "trust_me"}), "justification"),
        (openvex({"vulnerability": {"name": "CVE-1"}, "status": "fixed",
                  "products": [{"@id": "x", "subcomponents": [{}]}]}), "@id purl"),
        (json.dumps({"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "CVE-1"}]}).encode(),
         "not a VEX"),
        (json.dumps({"bomFormat": "CycloneDX", "vulnerabilities": [
            {"id": "CVE-1", "analysis": {"state": "fine"}}]}).encode(), "analysis.state"),
        (b" " * (vex.MAX_BYTES + 1), "larger than"),
    ],
)  # fmt: skip
def test_malformed_documents_are_refused_naming_the_place(raw: bytes, message: str) -> None:
    with pytest.raises(vex.VexInvalid, match=message):
        vex.parse(raw)


def test_purl_names() -> None:
    assert vex.package_names("pkg:npm/lodash@4.17.15") == ("lodash",)
    assert vex.package_names("pkg:npm/%40babel/core@7.0.0") == (
        "@babel/core", "@babel:core", "core"
    )  # fmt: skip
    assert vex.package_names("pkg:deb/debian/openssl@3.0.11-1?arch=amd64") == (
        "debian/openssl", "debian:openssl", "openssl"
    )  # fmt: skip
    assert vex.package_names("not-a-purl") == ()
