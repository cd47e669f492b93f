"""Registry use cases shared by the `/v2/` API, the ECR API and the console.

Every method is synchronous (the async edge runs it in a worker thread) and raises only
`TidegateError`s; storage failures are translated here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from sqlalchemy.engine import Connection, Engine

from tidegate.db import reading
from tidegate.errors import (
    BlobNotFound,
    BlobUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestTooLarge,
    ManifestUnknown,
    ReferencedByIndex,
    TagImmutable,
    TidegateError,
)
from tidegate.oci import mediatypes
from tidegate.oci.digest import Digest, digest_bytes, is_digest, parse_digest
from tidegate.oci.manifest import Manifest, parse_manifest
from tidegate.oci.reference import parse_name, parse_tag
from tidegate.registry import metadata
from tidegate.registry.lookup_cache import LookupCache
from tidegate.registry.metadata import ManifestRow, RepoRow
from tidegate.registry.storage.base import BlobStore
from tidegate.registry.uploads import Appender, UploadManager, UploadState, read_state_by_name

# Pull times are approximate (as in ECR): a pull rewrites the row at most this often.
PULL_RECORD_INTERVAL = 3600.0


@dataclass(frozen=True, slots=True)
class PushedImage:
    """What a push hook learns about a manifest that was just stored (same transaction)."""

    repo: RepoRow
    manifest: ManifestRow
    parsed: Manifest
    tag: str | None
    created: bool  # False when the manifest already existed and only a tag moved


@dataclass(frozen=True, slots=True)
class DeletedImage:
    repo: RepoRow
    manifest: ManifestRow
    tags: tuple[str, ...]


class PushHook(Protocol):
    def __call__(self, conn: Connection, image: PushedImage) -> None: ...


class DeleteHook(Protocol):
    def __call__(self, conn: Connection, image: DeletedImage) -> None: ...


@dataclass(frozen=True, slots=True)
class FetchedManifest:
    digest: Digest
    media_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class _CachedManifest:
    row: ManifestRow
    fetched: FetchedManifest


@dataclass
class Hooks:
    """Callbacks run inside the push/delete transaction (events outbox, scan jobs)."""

    on_push: list[PushHook] = field(default_factory=list)
    on_delete: list[DeleteHook] = field(default_factory=list)


def tag_is_immutable(repo: RepoRow, tag: str) -> bool:
    """ECR's four mutability modes, with WILDCARD exclusion filters."""
    from fnmatch import fnmatchcase

    excluded = any(fnmatchcase(tag, pattern) for pattern in repo.mutability_exclusions)
    if repo.tag_mutability == "IMMUTABLE":
        return True
    if repo.tag_mutability == "IMMUTABLE_WITH_EXCLUSION":
        return not excluded
    if repo.tag_mutability == "MUTABLE_WITH_EXCLUSION":
        return excluded
    return False


class RegistryService:
    """Repositories, blobs, manifests and tags."""

    def __init__(
        self,
        engine: Engine,
        store: BlobStore,
        *,
        max_manifest_bytes: int = 4 * 1024 * 1024,
        create_on_push: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.store = store
        self.max_manifest_bytes = max_manifest_bytes
        self.create_on_push = create_on_push
        self.clock = clock
        self.uploads = UploadManager(engine, store, clock)
        self.hooks = Hooks()
        self.lookups = LookupCache()
        # When this process last recorded a pull of each manifest (the cached rows keep the
        # time they were read with).
        self._pulls_recorded: dict[int, float] = {}

    # -- repositories ---------------------------------------------------------------------

    def repository(self, name: str) -> RepoRow:
        with reading(self.engine) as conn:
            return self._repository(conn, metadata.generation(conn), name)

    def _repository(self, conn: Connection, generation: int, name: str) -> RepoRow:
        key = ("repository", name)
        cached = self.lookups.get(key, generation)
        if isinstance(cached, RepoRow):
            return cached
        parse_name(name)
        repo = metadata.get_repo(conn, name)
        self.lookups.put(key, generation, repo)
        return repo

    def start_upload(self, name: str) -> UploadState:
        """A new upload session in the repository (created on first push when allowed)."""
        return self.uploads.start(self.repository_for_push(name).id)

    def start_appending(self, name: str, start: int | None) -> Appender:
        """A new session's appender, for a body that is the whole blob (monolithic POST)."""
        return self.uploads.open(self.start_upload(name), start)

    def open_upload(self, name: str, upload_id: str, start: int | None) -> Appender:
        """An appender for the repository's upload session at its acknowledged offset.

        The repository, the session and the file in one call: the `/v2/` handlers make it
        in one thread hop per chunk.
        """
        return self.uploads.open(self.upload_state(name, upload_id), start)

    def upload_state(self, name: str, upload_id: str) -> UploadState:
        parse_name(name)
        with reading(self.engine) as conn:
            return read_state_by_name(conn, name, upload_id)

    def repository_for_push(self, name: str) -> RepoRow:
        """The repository, created on first push when the registry allows it."""
        repo_name = parse_name(name)
        with reading(self.engine) as conn:  # the common case: no write lock
            found = metadata.find_repo(conn, repo_name)
        if found is not None:
            return found
        with self.engine.begin() as conn:
            repo = metadata.find_repo(conn, repo_name)
            if repo is None and self.create_on_push:
                repo = metadata.create_repo(conn, repo_name, self.clock())
        if repo is None:
            return self.repository(name)
        return repo

    def catalog(self, *, after: str | None, limit: int | None) -> list[str]:
        with reading(self.engine) as conn:
            return [r.name for r in metadata.list_repos(conn, after=after, limit=limit)]

    # -- blobs ----------------------------------------------------------------------------

    def stat_blob(self, name: str, digest: str) -> tuple[Digest, int]:
        parsed = parse_digest(digest)
        parse_name(name)
        with reading(self.engine) as conn:
            # One statement when the blob is there: as cheap as the lookup cache's generation
            # read, and pushes (which bump the generation per blob) would miss that cache.
            size = metadata.linked_blob_size(conn, name, parsed)
            if size is None:
                metadata.get_repo(conn, name)  # NameUnknown before BlobUnknown
        if size is None:
            msg = f"blob {digest} is not known to repository {name!r}"
            raise BlobUnknown(msg, detail={"digest": digest})
        return parsed, size

    def open_blob(self, name: str, digest: str) -> tuple[Digest, int, BinaryIO]:
        parsed, size = self.stat_blob(name, digest)
        try:
            return parsed, size, self.store.open(parsed)
        except BlobNotFound as exc:
            msg = f"blob {digest} is not in storage"
            raise BlobUnknown(msg, detail={"digest": digest}) from exc

    def blob_redirect(self, name: str, digest: str) -> tuple[Digest, str] | None:
        """Where a client may fetch a blob of the repository directly (a presigned URL),
        or None when the store wants it proxied; raises `BlobUnknown` like `stat_blob`."""
        parsed, _size = self.stat_blob(name, digest)
        url = self.store.redirect_url(parsed)
        return None if url is None else (parsed, url)

    def delete_blob(self, name: str, digest: str) -> None:
        """Unlink the blob from the repository; GC reclaims bytes nothing references."""
        parsed = parse_digest(digest)
        repo = self.repository(name)
        with self.engine.begin() as conn:
            if not metadata.unlink_blob(conn, repo.id, parsed):
                msg = f"blob {digest} is not known to repository {name!r}"
                raise BlobUnknown(msg, detail={"digest": digest})

    def mount_blob(self, name: str, source: str, digest: str) -> bool:
        """Link a blob from `source` into `name`; False when the source cannot lend it."""
        try:
            parsed = parse_digest(digest)
            parse_name(source)
        except TidegateError:  # a bad mount request falls back to an ordinary upload
            return False
        target = self.repository_for_push(name)
        with self.engine.begin() as conn:
            src = metadata.find_repo(conn, source)
            if src is None or metadata.blob_linked(conn, src.id, parsed) is None:
                return False
            now = self.clock()
            metadata.touch_blobs(conn, [parsed], now)
            metadata.link_blob(conn, target.id, parsed, now)
        return True

    # -- manifests ------------------------------------------------------------------------

    def _resolve(self, conn: Connection, repo: RepoRow, reference: str) -> ManifestRow:
        if is_digest(reference):
            row = metadata.find_manifest(conn, repo.id, parse_digest(reference))
        else:
            row = metadata.find_tag(conn, repo.id, parse_tag(reference))
        if row is None:
            msg = f"manifest {reference!r} is not known to repository {repo.name!r}"
            raise ManifestUnknown(msg, detail={"name": repo.name, "reference": reference})
        return row

    def resolve(self, name: str, reference: str) -> ManifestRow:
        repo = self.repository(name)
        with reading(self.engine) as conn:
            return self._resolve(conn, repo, reference)

    def get_manifest(self, name: str, reference: str, *, record_pull: bool) -> FetchedManifest:
        """The manifest a tag or digest names, from the lookup cache while it is current."""
        with reading(self.engine) as conn:
            generation = metadata.generation(conn)
            key = ("manifest", name, reference)
            cached = self.lookups.get(key, generation)
            if isinstance(cached, _CachedManifest):
                row, fetched = cached.row, cached.fetched
            else:
                row = self._resolve(conn, self._repository(conn, generation, name), reference)
                try:
                    with self.store.open(row.digest) as fh:
                        body = fh.read()
                except BlobNotFound as exc:
                    msg = f"manifest {row.digest} is missing from storage"
                    raise ManifestUnknown(msg) from exc
                fetched = FetchedManifest(row.digest, row.media_type, body)
                self.lookups.put(key, generation, _CachedManifest(row, fetched), len(body))
        if record_pull:
            self._record_pull(row)
        return fetched

    def _record_pull(self, row: ManifestRow) -> None:
        now = self.clock()
        last = max(row.last_pulled_at or 0.0, self._pulls_recorded.get(row.id, 0.0))
        if now - last <= PULL_RECORD_INTERVAL:
            return
        self._pulls_recorded[row.id] = now
        if len(self._pulls_recorded) > 100_000:
            self._pulls_recorded.clear()
        with self.engine.begin() as conn:
            metadata.mark_pulled(conn, row.id, now)

    def put_manifest(
        self, name: str, reference: str, body: bytes, content_type: str
    ) -> tuple[Digest, Manifest]:
        """Store a manifest after checking everything it references is in the repository."""
        if len(body) > self.max_manifest_bytes:
            msg = f"manifest is {len(body)} bytes; the limit is {self.max_manifest_bytes}"
            raise ManifestTooLarge(msg)
        tag: str | None = None
        if is_digest(reference):
            wanted = parse_digest(reference)
            digest = digest_bytes(body, wanted.split(":", 1)[0])
            if digest != wanted:
                msg = f"manifest digest {digest} does not match reference {wanted}"
                raise DigestInvalid(msg, detail={"digest": wanted})
        else:
            tag = parse_tag(reference)
            digest = digest_bytes(body)
        parsed = parse_manifest(body, content_type)
        repo = self.repository_for_push(name)
        self.store.put(digest, body)
        with self.engine.begin() as conn:
            self._store_manifest(conn, repo, digest, parsed, body, tag)
        return digest, parsed

    def _store_manifest(
        self,
        conn: Connection,
        repo: RepoRow,
        digest: Digest,
        parsed: Manifest,
        body: bytes,
        tag: str | None,
    ) -> None:
        now = self.clock()
        image_size = self._check_references(conn, repo, parsed)
        metadata.record_blob(conn, digest, len(body), now)
        row = metadata.find_manifest(conn, repo.id, digest)
        created = row is None
        if row is None:
            row = metadata.insert_manifest(
                conn, repo.id, digest, parsed, len(body), image_size, now
            )
        if tag is not None:
            current = metadata.find_tag(conn, repo.id, tag)
            if current is not None and current.id != row.id and tag_is_immutable(repo, tag):
                msg = (
                    f"The image tag '{tag}' already exists in the '{repo.name}' repository "
                    "and cannot be overwritten because the tag is immutable."
                )
                raise TagImmutable(msg, detail={"tag": tag})
            if current is None or current.id != row.id:
                metadata.set_tag(conn, repo.id, tag, row.id, now)
            elif not created:
                return  # identical re-push: nothing changed, no events
        pushed = PushedImage(repo, row, parsed, tag, created)
        for hook in self.hooks.on_push:
            hook(conn, pushed)

    def _check_references(self, conn: Connection, repo: RepoRow, parsed: Manifest) -> int:
        """Every referenced blob/child must be in the repository; returns the image size."""
        missing: list[str] = []
        wrong_size: list[str] = []
        size = 0
        for ref in parsed.blob_references:
            stored = metadata.blob_linked(conn, repo.id, ref.digest)
            if stored is None:
                missing.append(ref.digest)
            elif stored != ref.size:
                wrong_size.append(f"{ref.digest} declares size {ref.size}, the blob has {stored}")
            size += ref.size
        child_sizes = [0]
        for child in parsed.manifests:
            row = metadata.find_manifest(conn, repo.id, child.digest)
            if row is None:
                missing.append(child.digest)
            else:
                child_sizes.append(row.image_size)
        if missing:
            msg = f"manifest references unknown content: {', '.join(missing)}"
            raise ManifestBlobUnknown(msg, detail={"digests": missing})
        if wrong_size:
            # A client trusting the descriptor would read too little or wait for bytes
            # that never come; the spec requires the size to match the content.
            raise ManifestInvalid(f"descriptor size mismatch: {'; '.join(wrong_size)}")
        metadata.touch_blobs(conn, [ref.digest for ref in parsed.blob_references], self.clock())
        return size if not parsed.is_index else max(child_sizes)

    def delete_manifest(self, name: str, reference: str) -> None:
        """By tag: remove the tag. By digest: remove the manifest and every tag on it."""
        repo = self.repository(name)
        with self.engine.begin() as conn:
            row = self._resolve(conn, repo, reference)
            if not is_digest(reference):
                metadata.delete_tag(conn, repo.id, reference)
                for hook in self.hooks.on_delete:
                    hook(conn, DeletedImage(repo, row, (reference,)))
                return
            parents = metadata.index_parents(conn, repo.id, row.digest)
            if parents:
                msg = (
                    f"manifest {row.digest} is referenced by index {parents[0]}; "
                    "delete the index first"
                )
                raise ReferencedByIndex(msg, detail={"parents": parents})
            tags = tuple(metadata.tags_of(conn, row.id))
            metadata.delete_manifest_row(conn, row.id)
            for hook in self.hooks.on_delete:
                hook(conn, DeletedImage(repo, row, tags))

    def tags(self, name: str, *, after: str | None, limit: int | None) -> list[str]:
        repo = self.repository(name)
        with reading(self.engine) as conn:
            return metadata.list_tags(conn, repo.id, after=after, limit=limit)

    def referrers(
        self, name: str, digest: str, artifact_type: str | None
    ) -> list[dict[str, object]]:
        """OCI descriptors of manifests whose subject is `digest`, optionally filtered."""
        parsed = parse_digest(digest)
        repo = self.repository(name)
        with reading(self.engine) as conn:
            rows = metadata.referrers(conn, repo.id, parsed)
        out: list[dict[str, object]] = []
        for row in rows:
            if artifact_type and row.artifact_type != artifact_type:
                continue
            desc: dict[str, object] = {
                "mediaType": row.media_type,
                "digest": row.digest,
                "size": row.size,
            }
            if row.artifact_type:
                desc["artifactType"] = row.artifact_type
            if row.annotations:
                desc["annotations"] = row.annotations
            out.append(desc)
        return out


def referrers_index(descriptors: list[dict[str, object]]) -> bytes:
    return json.dumps(
        {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": descriptors}
    ).encode()
