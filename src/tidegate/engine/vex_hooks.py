"""Registry hooks for VEX artifacts: a pushed document is parsed (a malformed one refuses the
push), stored and applied to its image at once; deleting it lets its findings back."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tidegate import schema as t
from tidegate.engine import suppression, vex
from tidegate.engine.findings import ImageKey
from tidegate.errors import ManifestInvalid
from tidegate.events.model import Origin
from tidegate.oci.digest import Digest
from tidegate.registry import metadata
from tidegate.registry.service import DeletedImage, DeleteHook, PushedImage, PushHook
from tidegate.registry.storage.base import BlobStore
from tidegate.scanner import vex as parser


def _images(conn: Connection, repository_id: int, subjects: Sequence[str | None]) -> list[ImageKey]:
    """The images statements about `subjects` touch (None: every image of the repository)."""
    if None in subjects:
        m = t.manifests
        digests = conn.execute(sa.select(m.c.digest).where(m.c.repository_id == repository_id))
        return [(repository_id, str(d)) for (d,) in digests]
    return [(repository_id, str(d)) for d in subjects if d is not None]


def _read(blobs: BlobStore, digest: str) -> bytes:
    with blobs.open(Digest(digest)) as fh:
        return fh.read(parser.MAX_BYTES + 1)


def push_hook(origin: Origin, blobs: BlobStore, clock: Callable[[], float]) -> PushHook:
    def on_push(conn: Connection, image: PushedImage) -> None:
        if not image.created or not vex.is_vex(image.parsed):
            return
        documents = []
        for digest in vex.vex_layers(image.parsed):
            try:
                documents.append(parser.parse(_read(blobs, digest)))
            except parser.VexInvalid as exc:
                raise ManifestInvalid(exc.message, detail={"layer": digest}) from None
        subject = str(image.parsed.subject.digest) if image.parsed.subject else None
        now = clock()
        for fmt, statements in documents:
            vex.store(conn, image.repo.id, str(image.manifest.digest), subject, fmt, statements,
                      now)  # fmt: skip
        touched = {s for _f, st in documents for s in _subjects(subject, st)}
        suppression.reconcile(conn, origin, now, _images(conn, image.repo.id, sorted(
            touched, key=lambda d: d or "")))  # fmt: skip

    return on_push


def _subjects(subject: str | None, statements: Sequence[parser.VexStatement]) -> list[str | None]:
    if subject is not None:
        return [subject]
    return [d for s in statements for d in (s.image_digests or (None,))]


def delete_hook(origin: Origin, clock: Callable[[], float]) -> DeleteHook:
    def on_delete(conn: Connection, image: DeletedImage) -> None:
        repo, row = image.repo, image.manifest
        if metadata.find_manifest(conn, repo.id, row.digest) is not None:
            return  # a tag was removed; the document stays
        subjects = vex.forget(conn, repo.id, str(row.digest))
        if subjects:
            suppression.reconcile(conn, origin, clock(), _images(conn, repo.id, subjects))

    return on_delete
