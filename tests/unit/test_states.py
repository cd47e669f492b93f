"""The state enums hold exactly the words of the AWS enums they stand for (botocore's models)."""

from __future__ import annotations

import enum

import botocore.loaders
import pytest

from tidegate import states

_LOADER = botocore.loaders.Loader()
_SHAPES = {
    service: _LOADER.load_service_model(service, "service-2")["shapes"]
    for service in ("ecr", "inspector2")
}


@pytest.mark.parametrize(
    ("vocabulary", "service", "shape"),
    [
        (states.ScanType, "ecr", "ScanType"),
        (states.ScanFrequency, "ecr", "ScanFrequency"),
        (states.ScanStatus, "ecr", "ScanStatus"),
        (states.FindingStatus, "inspector2", "FindingStatus"),
        (states.FilterAction, "inspector2", "FilterAction"),
        (states.CoverageStatus, "inspector2", "ScanStatusCode"),
        (states.ReportStatus, "inspector2", "ExternalReportStatus"),
    ],
)
def test_an_enum_is_the_model_enum(
    vocabulary: type[enum.StrEnum], service: str, shape: str
) -> None:
    assert {m.value for m in vocabulary} == set(_SHAPES[service][shape]["enum"])


def test_coverage_reasons_are_inspector_reasons() -> None:
    reasons = set(_SHAPES["inspector2"]["ScanStatusReason"]["enum"])
    assert {m.value for m in states.CoverageReason} <= reasons
