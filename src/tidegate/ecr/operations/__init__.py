"""One function per ECR operation; `OPERATIONS` maps the X-Amz-Target action to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tidegate.ecr.context import EcrContext
from tidegate.ecr.operations import (
    images,
    layers,
    lifecycle,
    policies,
    registry,
    repositories,
    scanning,
)

Operation = Callable[[EcrContext, dict[str, Any]], dict[str, Any]]

OPERATIONS: dict[str, Operation] = {
    **repositories.OPERATIONS,
    **images.OPERATIONS,
    **scanning.OPERATIONS,
    **registry.OPERATIONS,
    **lifecycle.OPERATIONS,
    **policies.OPERATIONS,
    **layers.OPERATIONS,
}
