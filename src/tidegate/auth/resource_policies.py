"""Repository and registry policies (ECR's resource policies), stored as the text given."""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tidegate import schema as t
from tidegate.db import reading, update_or_insert
from tidegate.errors import NameUnknown


class ResourcePolicyStore:
    """Get/set/delete the policy text of a repository (by name) or of the registry."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def _repository_id(self, conn: sa.Connection, name: str) -> int:
        row = conn.execute(
            sa.select(t.repositories.c.id).where(t.repositories.c.name == name)
        ).first()
        if row is None:
            msg = f"repository {name!r} does not exist"
            raise NameUnknown(msg, detail={"name": name})
        return int(row.id)

    def repository_policy(self, name: str) -> str | None:
        """The text, or None without a policy; NameUnknown when the repository is missing."""
        with reading(self.engine) as conn:
            repo_id = self._repository_id(conn, name)
            row = conn.execute(
                sa.select(t.repository_policies.c.policy).where(
                    t.repository_policies.c.repository_id == repo_id
                )
            ).first()
        return None if row is None else str(row.policy)

    def repository_policy_or_none(self, name: str) -> str | None:
        """Like repository_policy, but None also when the repository does not exist."""
        with reading(self.engine) as conn:
            row = conn.execute(
                sa.select(t.repository_policies.c.policy)
                .join(t.repositories, t.repositories.c.id == t.repository_policies.c.repository_id)
                .where(t.repositories.c.name == name)
            ).first()
        return None if row is None else str(row.policy)

    def set_repository_policy(self, name: str, text: str) -> None:
        with self.engine.begin() as conn:
            repo_id = self._repository_id(conn, name)
            values = {"policy": text, "updated_at": self.clock()}
            update_or_insert(conn, t.repository_policies, {"repository_id": repo_id}, values)

    def delete_repository_policy(self, name: str) -> str | None:
        """Remove and return the text (None when there was none)."""
        with self.engine.begin() as conn:
            repo_id = self._repository_id(conn, name)
            row = conn.execute(
                sa.delete(t.repository_policies)
                .where(t.repository_policies.c.repository_id == repo_id)
                .returning(t.repository_policies.c.policy)
            ).first()
        return None if row is None else str(row.policy)

    def registry_policy(self, registry_id: str) -> str | None:
        with reading(self.engine) as conn:
            row = conn.execute(
                sa.select(t.registry_policies.c.policy).where(
                    t.registry_policies.c.registry_id == registry_id
                )
            ).first()
        return None if row is None else str(row.policy)

    def set_registry_policy(self, registry_id: str, text: str) -> None:
        with self.engine.begin() as conn:
            values = {"policy": text, "updated_at": self.clock()}
            update_or_insert(conn, t.registry_policies, {"registry_id": registry_id}, values)

    def delete_registry_policy(self, registry_id: str) -> str | None:
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.delete(t.registry_policies)
                .where(t.registry_policies.c.registry_id == registry_id)
                .returning(t.registry_policies.c.policy)
            ).first()
        return None if row is None else str(row.policy)

    def repository_tags(self, name: str) -> dict[str, str]:
        """The repository's resource tags (ECR TagResource), for `ecr:ResourceTag/<key>`."""
        with reading(self.engine) as conn:
            rows = conn.execute(
                sa.select(t.repository_resource_tags.c.key, t.repository_resource_tags.c.value)
                .join(
                    t.repositories,
                    t.repositories.c.id == t.repository_resource_tags.c.repository_id,
                )
                .where(t.repositories.c.name == name)
            ).all()
        return {str(k): str(v) for k, v in rows}
