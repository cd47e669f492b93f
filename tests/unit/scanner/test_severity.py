"""The severity rule table: each vendor vocabulary, the fallbacks, CVSS via PyPI `cvss`."""

from __future__ import annotations

import pytest

from tidegate.scanner.severity import (
    InvalidVector,
    Severity,
    UnknownRating,
    Vendor,
    cvss_score,
    preferred_score,
    resolve,
    vendor_severity,
)


@pytest.mark.parametrize(
    ("vendor", "raw", "expected"),
    [
        (Vendor.DEBIAN, "unimportant", Severity.INFORMATIONAL),
        (Vendor.DEBIAN, "high", Severity.HIGH),
        (Vendor.DEBIAN, "low*", None),
        (Vendor.DEBIAN, "not yet assigned", None),
        (Vendor.UBUNTU, "negligible", Severity.INFORMATIONAL),
        (Vendor.UBUNTU, "critical", Severity.CRITICAL),
        (Vendor.UBUNTU, "untriaged", None),
        (Vendor.AMAZON, "Important", Severity.HIGH),
        (Vendor.REDHAT, "Moderate", Severity.MEDIUM),
        (Vendor.GHSA, "MODERATE", Severity.MEDIUM),
    ],
)
def test_vendor_tables(vendor: Vendor, raw: str, expected: Severity | None) -> None:
    assert vendor_severity(vendor, raw) is expected


def test_unknown_vendor_word_is_reported() -> None:
    with pytest.raises(UnknownRating):
        vendor_severity(Vendor.DEBIAN, "urgent")


def test_cvss_versions_and_malformed() -> None:
    # CVE-2019-1010022's NVD vector: 9.8, which is why the old rule said CRITICAL.
    assert cvss_score("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").base_score == 9.8
    assert cvss_score("AV:N/AC:L/Au:N/C:P/I:P/A:P").version == "2.0"
    v4 = cvss_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    assert v4.base_score == 9.3
    for bad in ("CVSS:3.1/AV:X", "garbage", "CVSS:3.1/AV:N/AC:L"):
        with pytest.raises(InvalidVector):
            cvss_score(bad)


def test_rule_order() -> None:
    assert preferred_score([("2.0", 5.0), ("4.0", 8.0), ("3.1", 9.8)]) == 9.8
    assert preferred_score([("2.0", 5.0), ("4.0", 8.0)]) == 8.0
    assert resolve(Severity.INFORMATIONAL, 9.8) is Severity.INFORMATIONAL
    assert resolve(None, 9.8) is Severity.CRITICAL
    assert resolve(None, 0.0) is Severity.INFORMATIONAL
    assert resolve(None, None) is Severity.UNDEFINED
    assert resolve(None, None, enhanced=True) is Severity.UNTRIAGED
    assert Severity.UNDEFINED.for_scan(enhanced=True) is Severity.UNTRIAGED
