"""The action names each service prefix has, from botocore's service models."""

from __future__ import annotations

from functools import cache
from types import MappingProxyType

import botocore.session


@cache
def known_actions() -> MappingProxyType[str, frozenset[str]]:
    """`{"ecr": {...operation names}, "inspector2": {...}}` for validating policy actions."""
    session = botocore.session.get_session()
    return MappingProxyType(
        {
            prefix: frozenset(session.get_service_model(service).operation_names)
            for prefix, service in (("ecr", "ecr"), ("inspector2", "inspector2"))
        }
    )
