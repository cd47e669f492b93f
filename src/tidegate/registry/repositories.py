"""ECR-shaped repository use cases: explicit create, delete with force, settings, resource tags.

The `/v2/` API creates repositories on first push; the ECR API creates them explicitly with
their settings. Both share `RegistryService` and the same tables.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.db import update_or_insert
from tidegate.errors import ErrorCode, RegistryError
from tidegate.oci.reference import parse_name
from tidegate.registry import metadata
from tidegate.registry.metadata import RepoRow
from tidegate.registry.service import DeletedImage, RegistryService

MAX_RESOURCE_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


class RepositoryExists(RegistryError):
    """CreateRepository for a name that is taken; pick another name or reuse the repository."""

    code = ErrorCode.REPOSITORY_EXISTS


class RepositoryNotEmpty(RegistryError):
    """DeleteRepository without `force` on a repository that still holds images."""

    code = ErrorCode.REPOSITORY_NOT_EMPTY


class TooManyTags(RegistryError):
    """The repository would carry more than 50 resource tags."""

    code = ErrorCode.TOO_MANY_TAGS


class InvalidResourceTag(RegistryError):
    """A resource tag key or value breaks the limits (length, reserved `aws:` prefix)."""

    code = ErrorCode.INVALID_RESOURCE_TAG


@dataclass(frozen=True, slots=True)
class RepositorySettings:
    """Settings chosen at creation (ECR defaults)."""

    tag_mutability: str = "MUTABLE"
    mutability_exclusions: tuple[str, ...] = ()
    scan_on_push: bool = False
    encryption_type: str = "AES256"
    kms_key: str | None = None


def create_repository(
    registry: RegistryService,
    name: str,
    settings: RepositorySettings,
    tags: Sequence[tuple[str, str]] = (),
) -> RepoRow:
    """Create `name` with `settings` and resource `tags`; RepositoryExists if taken."""
    repo_name = parse_name(name)
    _check_tags(tags)
    if len(dict(tags)) > MAX_RESOURCE_TAGS:
        raise TooManyTags(f"a repository may carry at most {MAX_RESOURCE_TAGS} tags")
    with registry.engine.begin() as conn:
        if metadata.find_repo(conn, repo_name) is not None:
            raise RepositoryExists(f"The repository with name '{name}' already exists")
        repo = metadata.create_repo(
            conn,
            repo_name,
            registry.clock(),
            tag_mutability=settings.tag_mutability,
            mutability_exclusions=json.dumps(list(settings.mutability_exclusions)),
            scan_on_push=settings.scan_on_push,
            encryption_type=settings.encryption_type,
            kms_key=settings.kms_key,
        )
        _put_tags(conn, repo.id, tags)
    return repo


def page_repositories(registry: RegistryService, offset: int, limit: int) -> list[RepoRow]:
    """Up to `limit` repositories in name order, starting at `offset` (one extra = more)."""
    with registry.engine.connect() as conn:
        return metadata.list_repos(conn, after=None, limit=limit, offset=offset)


def get_repositories(registry: RegistryService, names: Sequence[str]) -> list[RepoRow]:
    """The named repositories in request order (deduplicated); NameUnknown for any missing."""
    with registry.engine.connect() as conn:
        return [metadata.get_repo(conn, name) for name in dict.fromkeys(names)]


def delete_repository(registry: RegistryService, name: str, *, force: bool) -> RepoRow:
    """Delete the repository; with images only when `force` (delete hooks run per image)."""
    with registry.engine.begin() as conn:
        repo = metadata.get_repo(conn, name)
        manifests = metadata.manifests_of(conn, repo.id)
        if manifests and not force:
            raise RepositoryNotEmpty(
                f"The repository with name '{name}' cannot be deleted because it still "
                "contains images"
            )
        tags = metadata.tags_of_many(conn, [m.id for m in manifests])
        images = [DeletedImage(repo, m, tuple(tags[m.id])) for m in manifests]
        # Tags first: they reference manifests; everything else cascades from the repository.
        conn.execute(sa.delete(t.tags).where(t.tags.c.repository_id == repo.id))
        manifest_ids = sa.select(t.manifests.c.id).where(t.manifests.c.repository_id == repo.id)
        conn.execute(
            sa.delete(t.manifest_refs).where(t.manifest_refs.c.manifest_id.in_(manifest_ids))
        )
        conn.execute(sa.delete(t.manifests).where(t.manifests.c.repository_id == repo.id))
        # Hooks see each image gone, as after deleting it alone.
        for image in images:
            for hook in registry.hooks.on_delete:
                hook(conn, image)
        conn.execute(sa.delete(t.repositories).where(t.repositories.c.id == repo.id))
        metadata.bump_generation(conn)
    return repo


def update_repository(registry: RegistryService, name: str, **values: object) -> RepoRow:
    """Change stored settings (`tag_mutability`, `mutability_exclusions`, `scan_on_push`)."""
    if "mutability_exclusions" in values:
        values["mutability_exclusions"] = json.dumps(list(values["mutability_exclusions"]))  # type: ignore[call-overload]
    with registry.engine.begin() as conn:
        repo = metadata.get_repo(conn, name)
        conn.execute(
            sa.update(t.repositories).where(t.repositories.c.id == repo.id).values(**values)
        )
        metadata.bump_generation(conn)
        return metadata.get_repo(conn, name)


def list_resource_tags(registry: RegistryService, name: str) -> list[tuple[str, str]]:
    """The repository's resource tags sorted by key."""
    with registry.engine.connect() as conn:
        repo = metadata.get_repo(conn, name)
        return _tags(conn, repo.id)


def tag_repository(registry: RegistryService, name: str, tags: Sequence[tuple[str, str]]) -> None:
    """Add or overwrite resource tags; TooManyTags past 50."""
    _check_tags(tags)
    with registry.engine.begin() as conn:
        repo = metadata.get_repo(conn, name)
        merged = dict(_tags(conn, repo.id)) | dict(tags)
        if len(merged) > MAX_RESOURCE_TAGS:
            raise TooManyTags(f"a repository may carry at most {MAX_RESOURCE_TAGS} tags")
        _put_tags(conn, repo.id, tags)


def untag_repository(registry: RegistryService, name: str, keys: Sequence[str]) -> None:
    """Remove resource tags by key; absent keys are ignored (as in ECR)."""
    with registry.engine.begin() as conn:
        repo = metadata.get_repo(conn, name)
        table = t.repository_resource_tags
        conn.execute(
            sa.delete(table).where(table.c.repository_id == repo.id, table.c.key.in_(list(keys)))
        )


def _tags(conn: Connection, repo_id: int) -> list[tuple[str, str]]:
    table = t.repository_resource_tags
    rows = conn.execute(
        sa.select(table.c.key, table.c.value)
        .where(table.c.repository_id == repo_id)
        .order_by(table.c.key)
    )
    return [(row[0], row[1]) for row in rows]


def _put_tags(conn: Connection, repo_id: int, tags: Sequence[tuple[str, str]]) -> None:
    table = t.repository_resource_tags
    for key, value in dict(tags).items():
        conn.execute(sa.delete(table).where(table.c.repository_id == repo_id, table.c.key == key))
        conn.execute(sa.insert(table).values(repository_id=repo_id, key=key, value=value))


def _check_tags(tags: Sequence[tuple[str, str]]) -> None:
    for key, value in tags:
        if not 1 <= len(key) <= MAX_TAG_KEY or len(value) > MAX_TAG_VALUE:
            raise InvalidResourceTag(
                f"tag keys must be 1-{MAX_TAG_KEY} characters and values at most "
                f"{MAX_TAG_VALUE}: {key!r}"
            )
        if key.lower().startswith("aws:"):
            raise InvalidResourceTag(f"tag keys starting with 'aws:' are reserved: {key!r}")


def read_setting(conn: Connection, name: str) -> str | None:
    """The registry-wide JSON document `name` in `registry_settings`, or None."""
    row = conn.execute(
        sa.select(t.registry_settings.c.value).where(t.registry_settings.c.name == name)
    ).first()
    return None if row is None else str(row[0])


def write_setting(conn: Connection, name: str, value: str, now: float) -> None:
    """Store (insert or replace) the registry-wide JSON document `name`."""
    update_or_insert(conn, t.registry_settings, {"name": name}, {"value": value, "updated_at": now})
