"""Typed queries over the registry tables; every function takes an open connection."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.db import insert_ignoring_conflicts, rows_for_ids, update_or_insert
from tidegate.errors import NameUnknown
from tidegate.oci.digest import Digest
from tidegate.oci.manifest import Descriptor, Manifest
from tidegate.oci.reference import RepoName


@dataclass(frozen=True, slots=True)
class RepoRow:
    id: int
    name: RepoName
    created_at: float
    tag_mutability: str
    mutability_exclusions: tuple[str, ...]
    scan_on_push: bool
    encryption_type: str
    kms_key: str | None


@dataclass(frozen=True, slots=True)
class ManifestRow:
    id: int
    repository_id: int
    digest: Digest
    media_type: str
    artifact_type: str
    size: int
    image_size: int
    config_digest: str | None
    subject_digest: str | None
    annotations: dict[str, str]
    pushed_at: float
    last_pulled_at: float | None


def _repo(row: sa.Row[tuple[object, ...]]) -> RepoRow:
    m = row._mapping
    return RepoRow(
        id=m["id"],
        name=RepoName(m["name"]),
        created_at=m["created_at"],
        tag_mutability=m["tag_mutability"],
        mutability_exclusions=tuple(json.loads(m["mutability_exclusions"])),
        scan_on_push=bool(m["scan_on_push"]),
        encryption_type=m["encryption_type"],
        kms_key=m["kms_key"],
    )


def _manifest(row: sa.Row[tuple[object, ...]]) -> ManifestRow:
    m = row._mapping
    return ManifestRow(
        id=m["id"],
        repository_id=m["repository_id"],
        digest=Digest(m["digest"]),
        media_type=m["media_type"],
        artifact_type=m["artifact_type"],
        size=m["size"],
        image_size=m["image_size"],
        config_digest=m["config_digest"],
        subject_digest=m["subject_digest"],
        annotations=json.loads(m["annotations"]),
        pushed_at=m["pushed_at"],
        last_pulled_at=m["last_pulled_at"],
    )


# Built once, executed with parameters: the upload path runs these on every request, and
# building a statement costs more than SQLite running it.
_REPO_BY_NAME = sa.select(t.repositories).where(t.repositories.c.name == sa.bindparam("name"))
_BLOB_LINKED = (
    sa.select(t.blobs.c.size)
    .join(t.repository_blobs, t.repository_blobs.c.digest == t.blobs.c.digest)
    .where(
        t.repository_blobs.c.repository_id == sa.bindparam("repo_id"),
        t.blobs.c.digest == sa.bindparam("digest"),
    )
)
_LINKED_SIZE_BY_NAME = (
    sa.select(t.blobs.c.size)
    .join(t.repository_blobs, t.repository_blobs.c.digest == t.blobs.c.digest)
    .join(t.repositories, t.repositories.c.id == t.repository_blobs.c.repository_id)
    .where(
        t.repositories.c.name == sa.bindparam("name"), t.blobs.c.digest == sa.bindparam("digest")
    )
)
_LINK_EXISTS = sa.select(t.repository_blobs.c.digest).where(
    t.repository_blobs.c.repository_id == sa.bindparam("repo_id"),
    t.repository_blobs.c.digest == sa.bindparam("digest"),
)


def find_repo(conn: Connection, name: str) -> RepoRow | None:
    row = conn.execute(_REPO_BY_NAME, {"name": name}).first()
    return _repo(row) if row else None


def find_repo_by_id(conn: Connection, repo_id: int) -> RepoRow | None:
    row = conn.execute(sa.select(t.repositories).where(t.repositories.c.id == repo_id)).first()
    return _repo(row) if row else None


def get_repo(conn: Connection, name: str) -> RepoRow:
    repo = find_repo(conn, name)
    if repo is None:
        msg = f"repository {name!r} is not known to the registry"
        raise NameUnknown(msg, detail={"name": name})
    return repo


_BUMP = (
    sa.update(t.registry_generation)
    .where(t.registry_generation.c.id == 1)
    .values(value=t.registry_generation.c.value + 1)
)
_GENERATION = "SELECT value FROM registry_generation WHERE id = 1"


def bump_generation(conn: Connection) -> None:
    """Mark the registry's lookups changed, in the caller's transaction: every process's
    cache sees the new generation exactly when the change it stands for is committed."""
    if conn.execute(_BUMP).rowcount == 0:  # a database made by create_all, not migrations
        insert_ignoring_conflicts(conn, t.registry_generation, [{"id": 1, "value": 1}], "id")


def generation(conn: Connection) -> int:
    """The current generation (one primary-key read, no statement compilation)."""
    value = conn.exec_driver_sql(_GENERATION).scalar()
    return int(value or 0)


def create_repo(conn: Connection, name: RepoName, now: float, **fields: object) -> RepoRow:
    conn.execute(sa.insert(t.repositories).values(name=name, created_at=now, **fields))
    bump_generation(conn)
    return get_repo(conn, name)


def list_repos(
    conn: Connection, *, after: str | None, limit: int | None, offset: int = 0
) -> list[RepoRow]:
    query = sa.select(t.repositories).order_by(t.repositories.c.name)
    if after is not None:
        query = query.where(t.repositories.c.name > after)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [_repo(row) for row in conn.execute(query)]


def blob_linked(conn: Connection, repo_id: int, digest: str) -> int | None:
    """The blob's size when the repository may see it, else None."""
    row = conn.execute(_BLOB_LINKED, {"repo_id": repo_id, "digest": digest}).first()
    return None if row is None else int(row[0])


def linked_blob_size(conn: Connection, repository: str, digest: str) -> int | None:
    """As `blob_linked`, for the repository by name (None also when it does not exist)."""
    row = conn.execute(_LINKED_SIZE_BY_NAME, {"name": repository, "digest": digest}).first()
    return None if row is None else int(row[0])


def record_blob(conn: Connection, digest: str, size: int, now: float) -> None:
    """Insert the blob row, or mark an existing one as freshly used (GC spares it)."""
    update_or_insert(
        conn, t.blobs, {"digest": digest}, {"last_used_at": now},
        on_insert={"size": size, "created_at": now},
    )  # fmt: skip


def link_blob(conn: Connection, repo_id: int, digest: str, now: float) -> None:
    exists = conn.execute(_LINK_EXISTS, {"repo_id": repo_id, "digest": digest}).first()
    if exists is None:
        conn.execute(
            sa.insert(t.repository_blobs).values(
                repository_id=repo_id, digest=digest, linked_at=now
            )
        )
        bump_generation(conn)


def unlink_blob(conn: Connection, repo_id: int, digest: str) -> bool:
    result = conn.execute(
        sa.delete(t.repository_blobs).where(
            t.repository_blobs.c.repository_id == repo_id,
            t.repository_blobs.c.digest == digest,
        )
    )
    bump_generation(conn)
    return result.rowcount > 0


def touch_blobs(conn: Connection, digests: list[str], now: float) -> int:
    """Bump last_used_at; row locks taken here make a concurrent GC wait and re-check."""
    if not digests:
        return 0
    result = conn.execute(
        sa.update(t.blobs).where(t.blobs.c.digest.in_(digests)).values(last_used_at=now)
    )
    return result.rowcount


def find_manifest(conn: Connection, repo_id: int, digest: str) -> ManifestRow | None:
    row = conn.execute(
        sa.select(t.manifests).where(
            t.manifests.c.repository_id == repo_id, t.manifests.c.digest == digest
        )
    ).first()
    return _manifest(row) if row else None


def manifests_of(conn: Connection, repo_id: int) -> list[ManifestRow]:
    """Every manifest stored in the repository, oldest row first."""
    query = sa.select(t.manifests).where(t.manifests.c.repository_id == repo_id)
    return manifests_where(conn, query.order_by(t.manifests.c.id))


def manifests_where(conn: Connection, query: sa.Select[Any]) -> list[ManifestRow]:
    """The manifests a `select(t.manifests)` query returns, in its order."""
    return [_manifest(row) for row in conn.execute(query)]


def manifest_by_id(conn: Connection, manifest_id: int) -> ManifestRow:
    row = conn.execute(sa.select(t.manifests).where(t.manifests.c.id == manifest_id)).one()
    return _manifest(row)


def find_tag(conn: Connection, repo_id: int, tag: str) -> ManifestRow | None:
    row = conn.execute(
        sa.select(t.manifests)
        .join(t.tags, t.tags.c.manifest_id == t.manifests.c.id)
        .where(t.tags.c.repository_id == repo_id, t.tags.c.name == tag)
    ).first()
    return _manifest(row) if row else None


def insert_manifest(
    conn: Connection,
    repo_id: int,
    digest: Digest,
    manifest: Manifest,
    size: int,
    image_size: int,
    now: float,
) -> ManifestRow:
    result = conn.execute(
        sa.insert(t.manifests).values(
            repository_id=repo_id,
            digest=digest,
            media_type=manifest.media_type,
            artifact_type=manifest.artifact_type,
            size=size,
            image_size=image_size,
            config_digest=manifest.config.digest if manifest.config else None,
            subject_digest=manifest.subject.digest if manifest.subject else None,
            annotations=json.dumps(dict(manifest.annotations), sort_keys=True),
            pushed_at=now,
        )
    )
    manifest_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    bump_generation(conn)
    refs: list[tuple[str, Descriptor]] = [("config", manifest.config)] if manifest.config else []
    refs += [("layer", d) for d in manifest.layers]
    refs += [("manifest", d) for d in manifest.manifests]
    if refs:
        conn.execute(
            sa.insert(t.manifest_refs),
            [
                {
                    "manifest_id": manifest_id,
                    "position": i,
                    "kind": kind,
                    "digest": d.digest,
                    "size": d.size,
                    "media_type": d.media_type,
                    "platform": d.platform,
                }
                for i, (kind, d) in enumerate(refs)
            ],
        )
    return manifest_by_id(conn, int(manifest_id))  # type: ignore[arg-type]


def manifest_refs(conn: Connection, manifest_id: int) -> list[sa.RowMapping]:
    return list(
        conn.execute(
            sa.select(t.manifest_refs)
            .where(t.manifest_refs.c.manifest_id == manifest_id)
            .order_by(t.manifest_refs.c.position)
        ).mappings()
    )


def tags_of(conn: Connection, manifest_id: int) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            sa.select(t.tags.c.name)
            .where(t.tags.c.manifest_id == manifest_id)
            .order_by(t.tags.c.name)
        )
    ]


def list_tags(conn: Connection, repo_id: int, *, after: str | None, limit: int | None) -> list[str]:
    query = (
        sa.select(t.tags.c.name).where(t.tags.c.repository_id == repo_id).order_by(t.tags.c.name)
    )
    if after is not None:
        query = query.where(t.tags.c.name > after)
    if limit is not None:
        query = query.limit(limit)
    return [row[0] for row in conn.execute(query)]


def set_tag(conn: Connection, repo_id: int, tag: str, manifest_id: int, now: float) -> None:
    update_or_insert(
        conn, t.tags, {"repository_id": repo_id, "name": tag},
        {"manifest_id": manifest_id, "updated_at": now},
    )  # fmt: skip
    bump_generation(conn)


def delete_tag(conn: Connection, repo_id: int, tag: str) -> bool:
    result = conn.execute(
        sa.delete(t.tags).where(t.tags.c.repository_id == repo_id, t.tags.c.name == tag)
    )
    bump_generation(conn)
    return result.rowcount > 0


def index_parents(conn: Connection, repo_id: int, digest: str) -> list[str]:
    """Digests of indexes in the repository that list `digest` as a child."""
    return [
        row[0]
        for row in conn.execute(
            sa.select(t.manifests.c.digest)
            .join(t.manifest_refs, t.manifest_refs.c.manifest_id == t.manifests.c.id)
            .where(
                t.manifests.c.repository_id == repo_id,
                t.manifest_refs.c.kind == "manifest",
                t.manifest_refs.c.digest == digest,
            )
        )
    ]


def delete_manifest_row(conn: Connection, manifest_id: int) -> None:
    conn.execute(sa.delete(t.tags).where(t.tags.c.manifest_id == manifest_id))
    conn.execute(sa.delete(t.manifest_refs).where(t.manifest_refs.c.manifest_id == manifest_id))
    conn.execute(sa.delete(t.manifests).where(t.manifests.c.id == manifest_id))
    bump_generation(conn)


def referrers(conn: Connection, repo_id: int, subject: str) -> list[ManifestRow]:
    rows = conn.execute(
        sa.select(t.manifests)
        .where(t.manifests.c.repository_id == repo_id, t.manifests.c.subject_digest == subject)
        .order_by(t.manifests.c.pushed_at, t.manifests.c.digest)
    )
    return [_manifest(row) for row in rows]


def mark_pulled(conn: Connection, manifest_id: int, now: float) -> None:
    conn.execute(
        sa.update(t.manifests).where(t.manifests.c.id == manifest_id).values(last_pulled_at=now)
    )


def by_repository(images: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    """(repository id, digest) pairs grouped by repository, digests sorted."""
    grouped: dict[int, list[str]] = {}
    for repository_id, digest in images:
        grouped.setdefault(repository_id, []).append(digest)
    return {r: sorted(set(d)) for r, d in sorted(grouped.items())}


def tags_of_many(conn: Connection, manifest_ids: list[int]) -> dict[int, list[str]]:
    """Tags per manifest id (sorted), for many manifests in one query."""
    out: dict[int, list[str]] = {i: [] for i in manifest_ids}
    sql = "SELECT manifest_id, name FROM tags WHERE manifest_id IN ({})"
    for manifest_id, name in rows_for_ids(conn, sql, sorted(set(manifest_ids))):
        out[int(manifest_id)].append(str(name))
    for names in out.values():
        names.sort()
    return out
