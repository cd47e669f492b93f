"""RegistryService behaviour, identical on SQLite and PostgreSQL metadata."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from tidegate.db import alembic_config, migrate
from tidegate.errors import (
    BlobUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestUnknown,
    NameUnknown,
    TagImmutable,
)
from tidegate.oci.digest import Digest
from tidegate.oci.reference import RepoName
from tidegate.registry import metadata
from tidegate.registry.gc import collect_garbage
from tidegate.registry.service import PushedImage, RegistryService
from tidegate.registry.storage.filesystem import FilesystemBlobStore

OCI = "application/vnd.oci.image.manifest.v1+json"


def sha(data: bytes) -> Digest:
    return Digest("sha256:" + hashlib.sha256(data).hexdigest())


@pytest.fixture
def registry(engine: Engine, tmp_path: Path) -> RegistryService:
    return RegistryService(engine, FilesystemBlobStore(tmp_path / "blobs"))


def upload(registry: RegistryService, name: str, data: bytes) -> Digest:
    repo = registry.repository_for_push(name)
    state = registry.uploads.start(repo.id)
    appender = registry.uploads.open(state, None)
    appender.write(data)
    return registry.uploads.finish(appender, sha(data), len(data))


def manifest(registry: RegistryService, name: str, layers: list[bytes]) -> bytes:
    config = b"{}"
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": upload(registry, name, config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": upload(registry, name, layer), "size": len(layer)}
                   for layer in layers],
    }  # fmt: skip
    return json.dumps(doc).encode()


def test_migrations_are_idempotent(engine: Engine) -> None:
    tables = set(sa.inspect(engine).get_table_names())
    with engine.begin() as conn:
        metadata.create_repo(conn, RepoName("kept/app"), 1.0)
    migrate(engine)
    migrate(engine)
    assert set(sa.inspect(engine).get_table_names()) == tables
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head
        assert metadata.find_repo(conn, "kept/app") is not None


def test_push_pull_tags_and_sizes(registry: RegistryService) -> None:
    body = manifest(registry, "team/app", [b"a" * 100, b"b" * 50])
    digest, _ = registry.put_manifest("team/app", "v1", body, OCI)
    registry.put_manifest("team/app", "latest", body, OCI)
    assert registry.get_manifest("team/app", "v1", record_pull=True).body == body
    assert registry.tags("team/app", after=None, limit=None) == ["latest", "v1"]
    assert registry.tags("team/app", after="latest", limit=1) == ["v1"]
    row = registry.resolve("team/app", digest)
    assert row.image_size == 152
    assert row.last_pulled_at is not None
    assert registry.catalog(after=None, limit=None) == ["team/app"]


def test_missing_references_and_unknowns(registry: RegistryService) -> None:
    body = json.loads(manifest(registry, "r/one", [b"x"]))
    body["layers"][0]["digest"] = sha(b"never uploaded")
    with pytest.raises(ManifestBlobUnknown):
        registry.put_manifest("r/one", "v1", json.dumps(body).encode(), OCI)
    with pytest.raises(ManifestUnknown):
        registry.get_manifest("r/one", "v1", record_pull=False)
    with pytest.raises(NameUnknown):
        registry.tags("nope", after=None, limit=None)
    with pytest.raises(BlobUnknown):
        registry.stat_blob("r/one", sha(b"never uploaded"))
    with pytest.raises(DigestInvalid):
        registry.put_manifest("r/one", sha(b"something else"), b"{}", OCI)


def test_blob_visibility_is_per_repository(registry: RegistryService) -> None:
    digest = upload(registry, "a/src", b"layer")
    registry.repository_for_push("a/dst")
    with pytest.raises(BlobUnknown):
        registry.stat_blob("a/dst", digest)
    assert registry.mount_blob("a/dst", "a/src", digest)
    assert registry.stat_blob("a/dst", digest)[1] == 5
    assert not registry.mount_blob("a/dst", "a/missing", digest)


def test_immutable_tags(registry: RegistryService, engine: Engine) -> None:
    import sqlalchemy as sa

    from tidegate import schema

    first = manifest(registry, "imm/app", [b"1"])
    second = manifest(registry, "imm/app", [b"2"])
    registry.put_manifest("imm/app", "v1", first, OCI)
    with engine.begin() as conn:
        conn.execute(
            sa.update(schema.repositories)
            .where(schema.repositories.c.name == "imm/app")
            .values(tag_mutability="IMMUTABLE")
        )
    registry.put_manifest("imm/app", "v1", first, OCI)  # same image again: allowed
    with pytest.raises(TagImmutable):
        registry.put_manifest("imm/app", "v1", second, OCI)
    registry.put_manifest("imm/app", "v2", second, OCI)


def test_push_hooks_run_in_the_push_transaction(registry: RegistryService) -> None:
    seen: list[tuple[str, str | None, bool]] = []
    registry.hooks.on_push.append(
        lambda conn, img: seen.append((img.manifest.digest, img.tag, img.created))
    )
    body = manifest(registry, "hooks/app", [b"h"])
    digest, _ = registry.put_manifest("hooks/app", "v1", body, OCI)
    registry.put_manifest("hooks/app", "v1", body, OCI)  # no change: no hook
    registry.put_manifest("hooks/app", "v2", body, OCI)
    assert seen == [(digest, "v1", True), (digest, "v2", False)]

    def refuse(conn: sa.Connection, image: PushedImage) -> None:
        raise RuntimeError("hook failed")

    registry.hooks.on_push.append(refuse)
    with pytest.raises(RuntimeError):
        registry.put_manifest("hooks/app", "v3", body, OCI)
    assert registry.tags("hooks/app", after=None, limit=None) == ["v1", "v2"]


def test_gc_and_concurrent_push(registry: RegistryService, engine: Engine) -> None:
    body = manifest(registry, "gc/app", [b"keep me"])
    registry.put_manifest("gc/app", "v1", body, OCI)
    orphan = upload(registry, "gc/app", b"orphan")
    errors: list[BaseException] = []

    def push_many() -> None:
        try:
            for i in range(10):
                layer = f"layer {i}".encode()
                registry.put_manifest("gc/app", f"t{i}", manifest(registry, "gc/app", [layer]), OCI)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=push_many)
    worker.start()
    report = collect_garbage(engine, registry.store, grace=0)
    worker.join()
    # A push racing GC either keeps its blobs or fails cleanly; here pushes reference
    # blobs they uploaded a moment earlier, which GC may take: such a push must say so.
    for exc in errors:
        assert isinstance(exc, ManifestBlobUnknown)
    assert orphan in report.blobs_removed
    with engine.connect() as conn:
        for tag in registry.tags("gc/app", after=None, limit=None):
            row = metadata.find_tag(conn, registry.repository("gc/app").id, tag)
            assert row is not None
            for ref in metadata.manifest_refs(conn, row.id):
                registry.store.stat(Digest(ref["digest"]))  # every referenced blob exists


def test_migrations_build_exactly_schema_py(engine: Engine) -> None:
    """Every table and column in schema.py comes from a migration, and nothing else does."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from tidegate.schema import metadata as schema_metadata

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema_metadata)
    assert diff == []
