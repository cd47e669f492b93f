"""Registry scanning rules: WILDCARD filters, effective frequency, stored document."""

from __future__ import annotations

import pytest

from tidegate.engine.policy import (
    InvalidScanningConfiguration,
    ScanningConfiguration,
    ScanRule,
    check_basic_scan_quota,
    check_configuration,
    config_from_json,
    config_to_json,
    effective_scanning,
    filter_matches,
)
from tidegate.errors import RateLimited
from tidegate.states import ScanFrequency, ScanType


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("prod", "team/prod-api", True),  # no '*': substring
        ("prod", "team/api", False),
        ("prod*", "production", True),  # '*': whole name
        ("prod*", "team/prod", False),
        ("*", "anything/at/all", True),
        ("team/*-api", "team/x-api", True),
        ("team/*-api", "team/x-api-v2", False),
        ("a.b", "axb", False),  # '.' is literal
    ],
)
def test_filter_matches(pattern: str, name: str, expected: bool) -> None:
    assert filter_matches(pattern, name) is expected


def test_continuous_beats_scan_on_push() -> None:
    config = ScanningConfiguration(
        ScanType.ENHANCED,
        (
            ScanRule(ScanFrequency.SCAN_ON_PUSH, ("*",)),
            ScanRule(ScanFrequency.CONTINUOUS_SCAN, ("prod",)),
        ),
    )
    eff = effective_scanning(config, "prod-app", scan_on_push=False)
    assert eff.frequency is ScanFrequency.CONTINUOUS_SCAN
    assert eff.applied_filters == ("prod",)
    other = effective_scanning(config, "dev-app", scan_on_push=False)
    assert (other.frequency, other.applied_filters) == (ScanFrequency.SCAN_ON_PUSH, ("*",))


def test_defaults_without_rules() -> None:
    basic = ScanningConfiguration()
    assert effective_scanning(basic, "x", scan_on_push=True).frequency is ScanFrequency.SCAN_ON_PUSH
    assert effective_scanning(basic, "x", scan_on_push=False).frequency is ScanFrequency.MANUAL
    enhanced = ScanningConfiguration(ScanType.ENHANCED)
    assert (
        effective_scanning(enhanced, "x", scan_on_push=False).frequency
        is ScanFrequency.CONTINUOUS_SCAN
    )


def test_unmatched_repository_is_manual_when_rules_exist() -> None:
    config = ScanningConfiguration(
        ScanType.BASIC, (ScanRule(ScanFrequency.SCAN_ON_PUSH, ("prod",)),)
    )
    assert effective_scanning(config, "dev", scan_on_push=True).frequency is ScanFrequency.MANUAL


def test_invalid_configurations() -> None:
    with pytest.raises(InvalidScanningConfiguration):
        check_configuration(
            ScanningConfiguration(
                ScanType.BASIC, (ScanRule(ScanFrequency.CONTINUOUS_SCAN, ("a",)),)
            )
        )
    rule = ScanRule(ScanFrequency.SCAN_ON_PUSH, ("a",))
    with pytest.raises(InvalidScanningConfiguration):
        check_configuration(ScanningConfiguration(ScanType.ENHANCED, (rule, rule)))


def test_json_round_trip() -> None:
    config = ScanningConfiguration(
        ScanType.ENHANCED, (ScanRule(ScanFrequency.CONTINUOUS_SCAN, ("prod", "x*")),)
    )
    assert config_from_json(config_to_json(config)) == config


def test_basic_quota_is_a_rolling_24_hours() -> None:
    check_basic_scan_quota(None, 1000.0)
    check_basic_scan_quota(0.0, 24 * 3600.0)
    with pytest.raises(RateLimited):
        check_basic_scan_quota(0.0, 24 * 3600.0 - 1)
