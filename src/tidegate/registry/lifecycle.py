"""Repository lifecycle policies: stored, previewed, and applied by deleting expired images.

Applying deletes through `RegistryService.delete_manifest`, so an expiry is an ordinary
delete: its `ECR Image Action` DELETE event, the closing of the image's findings and the
blob garbage collection that follows all happen as for any other delete. An image an index
still references is kept (deleting it would break the index) and expires once the index
is gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.db import reading, update_or_insert
from tidegate.errors import (
    ErrorCode,
    ManifestUnknown,
    NameUnknown,
    ReferencedByIndex,
    TidegateError,
)
from tidegate.registry import metadata
from tidegate.registry.lifecycle_policy import Candidate, expired, parse
from tidegate.registry.metadata import RepoRow
from tidegate.registry.service import RegistryService

log = logging.getLogger(__name__)


class LifecyclePolicyNotFound(TidegateError):
    """The repository has no lifecycle policy."""

    code = ErrorCode.LIFECYCLE_POLICY_NOT_FOUND


class LifecyclePreviewNotFound(TidegateError):
    """No lifecycle policy preview was started for the repository."""

    code = ErrorCode.LIFECYCLE_PREVIEW_NOT_FOUND


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    repo: RepoRow
    text: str
    evaluated_at: float | None


@dataclass(frozen=True, slots=True)
class Preview:
    repo: RepoRow
    text: str
    expiring: list[tuple[Candidate, int]]  # image, priority of the rule that expires it


_P = t.lifecycle_policies


def _row(conn: Connection, repo: RepoRow) -> tuple[str | None, float | None, str | None] | None:
    """(policy, evaluated at, preview policy), or None when the repository never had one."""
    row = conn.execute(
        sa.select(_P.c.policy, _P.c.evaluated_at, _P.c.preview_policy).where(
            _P.c.repository_id == repo.id
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def _upsert(conn: Connection, repo: RepoRow, **values: object) -> None:
    update_or_insert(conn, _P, {"repository_id": repo.id}, values)


def _policy(conn: Connection, repo: RepoRow) -> tuple[str, float | None]:
    """(policy text, evaluated at); LifecyclePolicyNotFound when the repository has none."""
    row = _row(conn, repo)
    if row is None or row[0] is None:
        raise LifecyclePolicyNotFound(
            f"Lifecycle policy does not exist for the repository with name '{repo.name}'"
        )
    return row[0], row[1]


def put_policy(registry: RegistryService, name: str, text: str) -> RepoRow:
    """Validate and store the policy (it replaces any previous one)."""
    parse(text)
    with registry.engine.begin() as conn:
        repo = metadata.get_repo(conn, name)
        _upsert(conn, repo, policy=text, evaluated_at=None)
    return repo


def get_policy(registry: RegistryService, name: str) -> StoredPolicy:
    with reading(registry.engine) as conn:
        repo = metadata.get_repo(conn, name)
        return StoredPolicy(repo, *_policy(conn, repo))


def delete_policy(registry: RegistryService, name: str) -> StoredPolicy:
    """Remove the policy; returns what it was."""
    with registry.engine.begin() as conn:
        repo = metadata.get_repo(conn, name)
        stored = StoredPolicy(repo, *_policy(conn, repo))
        conn.execute(
            sa.update(_P)
            .where(_P.c.repository_id == repo.id)
            .values(policy=None, evaluated_at=None)
        )
    return stored


def start_preview(registry: RegistryService, name: str, text: str | None) -> tuple[RepoRow, str]:
    """Remember the policy to preview: the one given, else the repository's own."""
    if text is not None:
        parse(text)
    with registry.engine.begin() as conn:
        repo = metadata.get_repo(conn, name)
        if text is None:
            text, _ = _policy(conn, repo)
        _upsert(conn, repo, preview_policy=text)
    return repo, text


def candidates(conn: Connection, repo: RepoRow) -> list[Candidate]:
    """Every image of the repository with its tags and push time."""
    manifests = metadata.manifests_of(conn, repo.id)
    tags = metadata.tags_of_many(conn, [m.id for m in manifests])
    return [Candidate(m.digest, tuple(tags[m.id]), m.pushed_at) for m in manifests]


def preview(registry: RegistryService, name: str, now: float) -> Preview:
    """What the started preview's policy would expire now."""
    with reading(registry.engine) as conn:
        repo = metadata.get_repo(conn, name)
        row = _row(conn, repo)
        text = row[2] if row is not None else None
        if text is None:
            msg = f"There is no lifecycle policy preview for the repository with name '{name}'"
            raise LifecyclePreviewNotFound(msg)
        images = candidates(conn, repo)
    return Preview(repo, text, expired(parse(text), images, now))


def apply(registry: RegistryService, now: float) -> int:
    """Run every repository's policy once; returns how many images expired."""
    with reading(registry.engine) as conn:
        policies = conn.execute(
            sa.select(_P.c.repository_id, _P.c.policy).where(_P.c.policy.is_not(None))
        ).all()
    total = 0
    for repository_id, text in policies:
        with reading(registry.engine) as conn:
            repo = metadata.find_repo_by_id(conn, int(repository_id))
            if repo is None:
                continue  # deleted meanwhile
            images = candidates(conn, repo)
        for image, priority in expired(parse(str(text)), images, now):
            try:
                registry.delete_manifest(repo.name, image.digest)
            except (ReferencedByIndex, ManifestUnknown, NameUnknown):
                continue  # kept by an index, or deleted meanwhile
            total += 1
            log.info(
                "lifecycle policy expired an image",
                extra={"fields": {"repository": repo.name, "digest": image.digest,
                                  "rule": priority, "tags": list(image.tags)}},
            )  # fmt: skip
        with registry.engine.begin() as conn:
            conn.execute(
                sa.update(_P).where(_P.c.repository_id == repo.id).values(evaluated_at=now)
            )
    return total
