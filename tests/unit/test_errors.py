"""Every concrete TidegateError has a code, and every API renders every code."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tidegate
from tidegate.ecr.errors import ECR_ERRORS, ecr_error_of
from tidegate.errors import ErrorCode, RegistryError, TidegateError
from tidegate.registry.api.errors import OCI_ERRORS
from tidegate.registry.repositories import RepositoryExists
from tidegate.webapi.errors import API_STATUS

ABSTRACT = {"RegistryError", "AuthError"}


def _all_subclasses() -> list[type[TidegateError]]:
    for info in pkgutil.walk_packages(tidegate.__path__, "tidegate."):
        if info.name.startswith("tidegate.migrations") or info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
    found: list[type[TidegateError]] = []
    todo = [TidegateError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def test_every_concrete_error_has_a_code_every_api_renders() -> None:
    classes = _all_subclasses()
    assert len(classes) > 25  # the walk really imported the tree
    for cls in classes:
        if cls.__name__ in ABSTRACT:
            continue
        code = cls.code
        assert isinstance(code, ErrorCode), cls
        assert code in OCI_ERRORS, cls
        assert code in ECR_ERRORS, cls
        assert code in API_STATUS, cls


def test_every_table_covers_every_code() -> None:
    assert set(ErrorCode) == set(OCI_ERRORS) == set(ECR_ERRORS) == set(API_STATUS)


def test_a_subclass_without_a_code_fails_at_definition() -> None:
    with pytest.raises(TypeError, match="must set `code`"):

        class Forgotten(RegistryError):
            pass


def test_repository_exists_is_a_conflict_not_a_bad_parameter() -> None:
    exc = RepositoryExists("taken")
    assert OCI_ERRORS[exc.code] == ("DENIED", 409)
    assert API_STATUS[exc.code] == 409
    assert ecr_error_of(exc, "1")[0] == "RepositoryAlreadyExistsException"
