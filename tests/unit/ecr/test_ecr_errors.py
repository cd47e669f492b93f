"""Every ErrorCode has an ECR and an OCI rendering, and ECR names are real model shapes."""

from __future__ import annotations

from tidegate.ecr.errors import ECR_ERRORS, EcrError, ecr_error_of
from tidegate.ecr.validation import service_model
from tidegate.errors import ErrorCode, NameUnknown, StorageError
from tidegate.registry.api.errors import OCI_ERRORS
from tidegate.registry.repositories import RepositoryExists

# AWS framework errors the CLI knows although they are not shapes in the ECR model.
FRAMEWORK = {"UnrecognizedClientException", "AccessDeniedException"}


def test_every_error_code_is_in_both_tables() -> None:
    assert set(ErrorCode) == set(ECR_ERRORS)
    assert set(ErrorCode) == set(OCI_ERRORS)


def test_ecr_names_are_modeled_exception_shapes() -> None:
    shapes = service_model()["shapes"]
    names = {name for name, _ in ECR_ERRORS.values()}
    for name in names - FRAMEWORK:
        assert shapes[name].get("exception"), name


def test_name_unknown_uses_aws_wording() -> None:
    exc = NameUnknown("x", detail={"name": "team/app"})
    assert ecr_error_of(exc, "123456789012") == (
        "RepositoryNotFoundException",
        400,
        "The repository with name 'team/app' does not exist in the registry with id '123456789012'",
    )


def test_domain_class_table_and_explicit_errors() -> None:
    assert ecr_error_of(RepositoryExists("taken"), "1")[0] == "RepositoryAlreadyExistsException"
    assert ecr_error_of(EcrError("ValidationException", "m"), "1") == (
        "ValidationException",
        400,
        "m",
    )


def test_server_errors_hide_internals() -> None:
    type_name, status, message = ecr_error_of(StorageError("/secret/path failed"), "1")
    assert (type_name, status) == ("ServerException", 500)
    assert "/secret" not in message
