"""Registry scanning configuration: scan type, rules with WILDCARD filters, and what applies.

Stored as one JSON document in `registry_settings` (name `scanning_configuration`).
Rules of the ECR model: a filter without `*` matches names that contain it; with `*`,
each `*` matches any run of characters over the whole name. CONTINUOUS_SCAN beats
SCAN_ON_PUSH. Without registry rules the repository's own `scanOnPush` flag decides under
BASIC; ENHANCED without rules scans every repository continuously.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from tidegate.errors import InvalidParameter, RateLimited
from tidegate.registry.repositories import read_setting, write_setting
from tidegate.registry.wildcards import wildcard
from tidegate.states import ScanFrequency, ScanType

SETTING_NAME = "scanning_configuration"
BASIC_SCAN_INTERVAL_SECONDS = 24 * 3600


# Higher wins when several rules match one repository.
_PRIORITY = {
    ScanFrequency.MANUAL: 0,
    ScanFrequency.SCAN_ON_PUSH: 1,
    ScanFrequency.CONTINUOUS_SCAN: 2,
}


@dataclass(frozen=True, slots=True)
class ScanRule:
    """One registry rule: a frequency for the repositories any of `filters` selects."""

    frequency: ScanFrequency
    filters: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScanningConfiguration:
    """The registry-wide scanning configuration (default: BASIC, no rules)."""

    scan_type: ScanType = ScanType.BASIC
    rules: tuple[ScanRule, ...] = ()


@dataclass(frozen=True, slots=True)
class EffectiveScanning:
    """What applies to one repository and which filters decided it."""

    frequency: ScanFrequency
    applied_filters: tuple[str, ...]


class InvalidScanningConfiguration(InvalidParameter):
    """The rules are inconsistent with the scan type (e.g. CONTINUOUS_SCAN under BASIC)."""


def filter_matches(pattern: str, name: str) -> bool:
    """ECR WILDCARD semantics: substring without `*`, whole-name glob with `*`."""
    if "*" not in pattern:
        return pattern in name
    return wildcard(pattern).fullmatch(name) is not None


def effective_scanning(
    config: ScanningConfiguration, name: str, scan_on_push: bool
) -> EffectiveScanning:
    """The frequency that applies to repository `name` and the filters that selected it."""
    if not config.rules:
        if config.scan_type is ScanType.ENHANCED:
            return EffectiveScanning(ScanFrequency.CONTINUOUS_SCAN, ())
        frequency = ScanFrequency.SCAN_ON_PUSH if scan_on_push else ScanFrequency.MANUAL
        return EffectiveScanning(frequency, ())
    best = EffectiveScanning(ScanFrequency.MANUAL, ())
    for rule in config.rules:
        matched = tuple(f for f in rule.filters if filter_matches(f, name))
        if matched and _PRIORITY[rule.frequency] > _PRIORITY[best.frequency]:
            best = EffectiveScanning(rule.frequency, matched)
    return best


def check_configuration(config: ScanningConfiguration) -> None:
    """Refuse what ECR refuses: continuous rules under BASIC, duplicate frequencies."""
    seen: set[ScanFrequency] = set()
    for rule in config.rules:
        if rule.frequency in seen:
            msg = f"Only one rule per scan frequency is allowed: {rule.frequency.value} repeats."
            raise InvalidScanningConfiguration(msg)
        seen.add(rule.frequency)
        if config.scan_type is ScanType.BASIC and rule.frequency is ScanFrequency.CONTINUOUS_SCAN:
            msg = "Scan frequency CONTINUOUS_SCAN is only supported with scan type ENHANCED."
            raise InvalidScanningConfiguration(msg)


def config_to_json(config: ScanningConfiguration) -> str:
    """Stable JSON for storage (sorted keys)."""
    doc = {
        "scanType": config.scan_type.value,
        "rules": [
            {"scanFrequency": r.frequency.value, "filters": list(r.filters)} for r in config.rules
        ],
    }
    return json.dumps(doc, sort_keys=True)


def config_from_json(text: str) -> ScanningConfiguration:
    """Inverse of `config_to_json`."""
    doc = json.loads(text)
    rules = tuple(
        ScanRule(ScanFrequency(r["scanFrequency"]), tuple(r["filters"])) for r in doc["rules"]
    )
    return ScanningConfiguration(ScanType(doc["scanType"]), rules)


def load_configuration(conn: Connection) -> ScanningConfiguration:
    """The stored configuration, or the default when none was ever put."""
    text = read_setting(conn, SETTING_NAME)
    return ScanningConfiguration() if text is None else config_from_json(text)


def save_configuration(conn: Connection, config: ScanningConfiguration, now: float) -> None:
    """Validate and store the configuration (replacing the previous one)."""
    check_configuration(config)
    write_setting(conn, SETTING_NAME, config_to_json(config), now)


def check_basic_scan_quota(last_requested_at: float | None, now: float) -> None:
    """At most one basic scan per image per 24 h (the on-push scan counts)."""
    if last_requested_at is not None and now - last_requested_at < BASIC_SCAN_INTERVAL_SECONDS:
        msg = "The scan quota per image has been exceeded. Wait and try again."
        raise RateLimited(msg)
