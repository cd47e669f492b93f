"""ECR-shaped image queries and use cases: listings with tag-status filters, batch get and
delete with per-image failures, image details, and the recorded scan state.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.errors import (
    DigestInvalid,
    ManifestUnknown,
    ReferencedByIndex,
    ScanNotFound,
    TagInvalid,
)
from tidegate.oci.digest import parse_digest
from tidegate.oci.reference import parse_tag
from tidegate.registry import metadata
from tidegate.registry.image_scans import ScanState, scan_of
from tidegate.registry.metadata import ManifestRow, RepoRow
from tidegate.registry.service import FetchedManifest, RegistryService


class TagStatus(enum.Enum):
    TAGGED = "TAGGED"
    UNTAGGED = "UNTAGGED"
    ANY = "ANY"


class FailureCode(enum.Enum):
    """Per-image failure codes of BatchGetImage / BatchDeleteImage (ECR's values)."""

    INVALID_IMAGE_DIGEST = "InvalidImageDigest"
    INVALID_IMAGE_TAG = "InvalidImageTag"
    TAG_DOES_NOT_MATCH_DIGEST = "ImageTagDoesNotMatchDigest"
    IMAGE_NOT_FOUND = "ImageNotFound"
    MISSING_DIGEST_AND_TAG = "MissingDigestAndTag"
    REFERENCED_BY_MANIFEST_LIST = "ImageReferencedByManifestList"


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image addressed by digest, tag or both (ECR's ImageIdentifier)."""

    digest: str | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class ImageFailure:
    ref: ImageRef
    code: FailureCode
    reason: str


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """Everything DescribeImages shows about one manifest."""

    manifest: ManifestRow
    tags: tuple[str, ...]
    artifact_media_type: str | None
    scan: ScanState | None


def _filtered(repo_id: int, status: TagStatus, *, whole_rows: bool = False) -> sa.Select[Any]:
    has_tag = sa.exists().where(t.tags.c.manifest_id == t.manifests.c.id)
    columns = t.manifests if whole_rows else t.manifests.c.id
    query = sa.select(columns).where(t.manifests.c.repository_id == repo_id)
    if status is TagStatus.TAGGED:
        query = query.where(has_tag)
    elif status is TagStatus.UNTAGGED:
        query = query.where(~has_tag)
    return query.order_by(t.manifests.c.pushed_at, t.manifests.c.id)


def list_image_ids(
    registry: RegistryService, name: str, status: TagStatus, offset: int, limit: int
) -> list[ImageRef]:
    """One entry per (digest, tag) pair; untagged images once without a tag."""
    with registry.engine.connect() as conn:
        repo = metadata.get_repo(conn, name)
        ids = _filtered(repo.id, status).subquery()
        query = (
            sa.select(t.manifests.c.digest, t.tags.c.name)
            .join(ids, ids.c.id == t.manifests.c.id)
            .outerjoin(t.tags, t.tags.c.manifest_id == t.manifests.c.id)
            .order_by(t.manifests.c.pushed_at, t.manifests.c.id, t.tags.c.name)
            .offset(offset)
            .limit(limit)
        )
        return [ImageRef(row[0], row[1]) for row in conn.execute(query)]


def describe_images(
    registry: RegistryService, name: str, status: TagStatus, offset: int, limit: int
) -> list[ImageInfo]:
    """Details of up to `limit` images in push order, starting at `offset`."""
    with registry.engine.connect() as conn:
        repo = metadata.get_repo(conn, name)
        query = _filtered(repo.id, status, whole_rows=True).offset(offset).limit(limit)
        rows = metadata.manifests_where(conn, query)
        tags = metadata.tags_of_many(conn, [row.id for row in rows])
        return [_info(conn, row, tags[row.id]) for row in rows]


def describe_refs(
    registry: RegistryService, name: str, refs: Sequence[ImageRef]
) -> list[ImageInfo]:
    """Details of the given images; ManifestUnknown if any is missing (the whole call fails)."""
    with registry.engine.connect() as conn:
        repo = metadata.get_repo(conn, name)
        seen: dict[int, ImageInfo] = {}
        for ref in refs:
            row = resolve(conn, repo, ref)
            if isinstance(row, ImageFailure):
                raise ManifestUnknown(_not_found_message(repo, ref))
            if row.id not in seen:
                seen[row.id] = _info(conn, row, metadata.tags_of(conn, row.id))
        return list(seen.values())


def resolve(conn: Connection, repo: RepoRow, ref: ImageRef) -> ManifestRow | ImageFailure:
    """The manifest `ref` names, or why it cannot be found."""
    by_digest = by_tag = None
    try:
        if ref.digest is not None:
            by_digest = metadata.find_manifest(conn, repo.id, parse_digest(ref.digest))
        if ref.tag is not None:
            by_tag = metadata.find_tag(conn, repo.id, parse_tag(ref.tag))
    except DigestInvalid:
        return ImageFailure(ref, FailureCode.INVALID_IMAGE_DIGEST, "Invalid image digest")
    except TagInvalid:
        return ImageFailure(ref, FailureCode.INVALID_IMAGE_TAG, "Invalid image tag")
    if ref.digest is None and ref.tag is None:
        return ImageFailure(ref, FailureCode.MISSING_DIGEST_AND_TAG, "Missing image digest and tag")
    row = by_digest or by_tag
    if row is None or (ref.digest is not None and ref.tag is not None and by_tag is None):
        return ImageFailure(ref, FailureCode.IMAGE_NOT_FOUND, "Requested image not found")
    if by_digest is not None and by_tag is not None and by_digest.id != by_tag.id:
        return ImageFailure(
            ref, FailureCode.TAG_DOES_NOT_MATCH_DIGEST, "Image tag does not match digest"
        )
    return row


def resolve_one(registry: RegistryService, name: str, ref: ImageRef) -> tuple[RepoRow, ManifestRow]:
    """The repository and manifest for `ref`; ManifestUnknown when there is none."""
    with registry.engine.connect() as conn:
        repo = metadata.get_repo(conn, name)
        row = resolve(conn, repo, ref)
    if isinstance(row, ImageFailure):
        raise ManifestUnknown(_not_found_message(repo, ref))
    return repo, row


def batch_get(
    registry: RegistryService, name: str, refs: Sequence[ImageRef]
) -> tuple[list[tuple[ImageRef, FetchedManifest]], list[ImageFailure]]:
    """Manifests for each ref (a pull: the pull time is recorded), and per-ref failures."""
    found: list[tuple[ImageRef, FetchedManifest]] = []
    failures: list[ImageFailure] = []
    with registry.engine.connect() as conn:
        repo = metadata.get_repo(conn, name)
        rows = [(ref, resolve(conn, repo, ref)) for ref in refs]
    for ref, row in rows:
        if isinstance(row, ImageFailure):
            failures.append(row)
            continue
        fetched = registry.get_manifest(name, row.digest, record_pull=True)
        found.append((ImageRef(row.digest, ref.tag), fetched))
    return found, failures


def batch_delete(
    registry: RegistryService, name: str, refs: Sequence[ImageRef]
) -> tuple[list[ImageRef], list[ImageFailure]]:
    """By tag: remove the tag, and the image with its last tag. By digest: the image."""
    deleted: list[ImageRef] = []
    failures: list[ImageFailure] = []
    for ref in refs:
        with registry.engine.connect() as conn:
            repo = metadata.get_repo(conn, name)
            row = resolve(conn, repo, ref)
        if isinstance(row, ImageFailure):
            failures.append(row)
            continue
        try:
            if ref.tag is not None:
                registry.delete_manifest(name, ref.tag)
                with registry.engine.connect() as conn:
                    untagged = not metadata.tags_of(conn, row.id)
                if untagged:
                    registry.delete_manifest(name, row.digest)
            else:
                registry.delete_manifest(name, row.digest)
        except ReferencedByIndex as exc:
            failures.append(ImageFailure(ref, FailureCode.REFERENCED_BY_MANIFEST_LIST, exc.message))
            continue
        deleted.append(ImageRef(row.digest, ref.tag))
    return deleted, failures


def layer_referenced(registry: RegistryService, name: str, digest: str) -> bool | None:
    """None when the repository has no such blob; else whether any image references it."""
    with registry.engine.connect() as conn:
        repo = metadata.get_repo(conn, name)
        if metadata.blob_linked(conn, repo.id, digest) is None:
            return None
        query = (
            sa.select(t.manifest_refs.c.digest)
            .join(t.manifests, t.manifests.c.id == t.manifest_refs.c.manifest_id)
            .where(t.manifests.c.repository_id == repo.id, t.manifest_refs.c.digest == digest)
        )
        return conn.execute(query.limit(1)).first() is not None


def scan_state(
    registry: RegistryService, name: str, ref: ImageRef
) -> tuple[RepoRow, ManifestRow, ScanState]:
    """The image's recorded scan; ScanNotFound when it was never scanned."""
    repo, row = resolve_one(registry, name, ref)
    with registry.engine.connect() as conn:
        state = scan_of(conn, repo.id, row.digest)
    if state is None:
        raise ScanNotFound(
            f"Image scan does not exist for the image with '{{imageDigest:'{row.digest}'}}' "
            f"in the repository with name '{name}'"
        )
    return repo, row, state


def _info(conn: Connection, row: ManifestRow, tags: list[str]) -> ImageInfo:
    config = [r for r in metadata.manifest_refs(conn, row.id) if r["kind"] == "config"]
    artifact = row.artifact_type or (config[0]["media_type"] if config else None)
    return ImageInfo(row, tuple(tags), artifact, scan_of(conn, row.repository_id, row.digest))


def _not_found_message(repo: RepoRow, ref: ImageRef) -> str:
    return (
        f"The image with imageId {{imageDigest:'{ref.digest or 'null'}', "
        f"imageTag:'{ref.tag or 'null'}'}} does not exist within the repository with name "
        f"'{repo.name}'"
    )
