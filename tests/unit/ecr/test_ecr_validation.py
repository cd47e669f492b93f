"""Request validation driven by botocore's ECR model: max, pattern, enum, ranges, required."""

from __future__ import annotations

import pytest

from tidegate.ecr.errors import EcrError
from tidegate.ecr.validation import target_prefix, validate_input


def refused(operation: str, params: dict[str, object]) -> EcrError:
    with pytest.raises(EcrError) as info:
        validate_input(operation, params)
    return info.value


def test_valid_request_passes() -> None:
    validate_input(
        "CreateRepository",
        {"repositoryName": "team/app", "imageTagMutability": "IMMUTABLE", "tags": []},
    )
    assert target_prefix() == "AmazonEC2ContainerRegistry_V20150921"


@pytest.mark.parametrize(
    ("operation", "params", "fragment"),
    [
        ("CreateRepository", {"repositoryName": "UPPER"}, "regular expression pattern"),
        ("CreateRepository", {"repositoryName": "a" * 257}, "less than or equal to 256"),
        ("CreateRepository", {"repositoryName": "x"}, "greater than or equal to 2"),
        ("CreateRepository", {}, "must not be null"),
        (
            "CreateRepository",
            {"repositoryName": "ok", "imageTagMutability": "SOMETIMES"},
            "enum value set",
        ),
        ("ListImages", {"repositoryName": "ok", "maxResults": 1001}, "less than or equal to 1000"),
        ("ListImages", {"repositoryName": "ok", "maxResults": 0}, "greater than or equal to 1"),
        ("ListImages", {"repositoryName": "ok", "maxResults": "5"}, "must be a number"),
        ("DescribeRepositories", {"registryId": "12"}, "regular expression pattern"),
        (
            "BatchDeleteImage",
            {"repositoryName": "ok", "imageIds": [{"imageTag": "t" * 301}]},
            "imageIds.1.member.imageTag",
        ),
    ],
)
def test_constraint_violations_are_invalid_parameter(
    operation: str, params: dict[str, object], fragment: str
) -> None:
    error = refused(operation, params)
    assert error.type_name == "InvalidParameterException"
    assert fragment in error.message


def test_operations_without_invalid_parameter_use_validation_exception() -> None:
    # PutRegistryScanningConfiguration models both; the scanning rule list caps at 2 rules.
    rule = {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": []}
    error = refused("PutRegistryScanningConfiguration", {"rules": [rule, rule, rule]})
    assert error.type_name in {"InvalidParameterException", "ValidationException"}
    assert "less than or equal to 2" in error.message
