"""narrow re-scan index; shared finding_details; zstd-compressed outbox bodies

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 21:00:00
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
import zstandard
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _move_finding_details() -> None:
    """findings.details -> finding_details, shared by content (shape left NULL: rendered on
    read until the row is next written)."""
    op.create_table(
        "finding_details",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("shape", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_details")),
    )
    with op.batch_alter_table("findings") as batch_op:
        batch_op.add_column(sa.Column("details_id", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    findings = sa.table(
        "findings",
        sa.column("id", sa.Integer),
        sa.column("details", sa.Text),
        sa.column("details_id", sa.String),
    )
    details = sa.table(
        "finding_details",
        sa.column("id", sa.String),
        sa.column("details", sa.Text),
        sa.column("shape", sa.Text),
    )
    texts: dict[str, str] = {}
    links = []
    for finding_id, text in conn.execute(sa.select(findings.c.id, findings.c.details)).fetchall():
        # engine.findings.details_id of a row without a rendered shape
        digest = hashlib.sha256(("\0" + text).encode()).hexdigest()
        texts[digest] = text
        links.append({"_id": finding_id, "_details": digest})
    if texts:
        conn.execute(
            sa.insert(details), [{"id": k, "details": v, "shape": None} for k, v in texts.items()]
        )
        conn.execute(
            sa.update(findings)
            .where(findings.c.id == sa.bindparam("_id"))
            .values(details_id=sa.bindparam("_details")),
            links,
        )
    with op.batch_alter_table("findings") as batch_op:
        batch_op.alter_column("details_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_foreign_key(
            op.f("fk_findings_details_id_finding_details"),
            "finding_details",
            ["details_id"],
            ["id"],
        )
        batch_op.drop_column("details")


# Both directions move bodies between the text and the compressed column.
_OUTBOX = sa.table(
    "events_outbox",
    sa.column("id", sa.Integer),
    sa.column("body", sa.Text),
    sa.column("body_zstd", sa.LargeBinary),
)


def _compress_outbox() -> None:
    with op.batch_alter_table("events_outbox") as batch_op:
        batch_op.add_column(sa.Column("body_zstd", sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    compressor = zstandard.ZstdCompressor(level=3)
    rows = conn.execute(sa.select(_OUTBOX.c.id, _OUTBOX.c.body)).fetchall()
    if rows:
        conn.execute(
            sa.update(_OUTBOX)
            .where(_OUTBOX.c.id == sa.bindparam("_id"))
            .values(body_zstd=sa.bindparam("_body")),
            [{"_id": i, "_body": compressor.compress(body.encode())} for i, body in rows],
        )
    with op.batch_alter_table("events_outbox") as batch_op:
        batch_op.alter_column("body_zstd", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("body")


def upgrade() -> None:
    _compress_outbox()
    # Reads by digest list now go per repository through ix_findings_image; one index less
    # to update for every finding a re-scan writes.
    op.drop_index("ix_findings_digest", table_name="findings")
    _move_finding_details()
    conn = op.get_bind()
    old = sa.table(
        "inventory_packages",
        sa.column("namespace", sa.String),
        sa.column("name", sa.String),
        sa.column("digest", sa.String),
        sa.column("package", sa.Text),
    )
    # The index is derived data (a few rows per package per image): hold it while the
    # table is rebuilt under its own name.
    existing = conn.execute(
        sa.select(old.c.namespace, old.c.name, old.c.digest, old.c.package)
    ).fetchall()
    op.drop_table("inventory_packages")
    op.create_table(
        "indexed_packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("package_hash", sa.String(length=64), nullable=False),
        sa.Column("package", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indexed_packages")),
        sa.UniqueConstraint("package_hash", name=op.f("uq_indexed_packages_package_hash")),
    )
    op.create_index("ix_indexed_packages_key", "indexed_packages", ["namespace", "name"])
    op.create_table(
        "inventory_packages",
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=150), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["indexed_packages.id"],
            name=op.f("fk_inventory_packages_package_id_indexed_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("package_id", "digest", name=op.f("pk_inventory_packages")),
    )
    op.create_index("ix_inventory_packages_digest", "inventory_packages", ["digest"])

    packages = sa.table(
        "indexed_packages",
        sa.column("id", sa.Integer),
        sa.column("namespace", sa.String),
        sa.column("name", sa.String),
        sa.column("package_hash", sa.String),
        sa.column("package", sa.Text),
    )
    pairs = sa.table(
        "inventory_packages", sa.column("package_id", sa.Integer), sa.column("digest", sa.String)
    )
    ids: dict[str, int] = {}
    links: set[tuple[int, str]] = set()
    for namespace, name, digest, package in existing:
        package_id = ids.get(package)
        if package_id is None:
            package_id = ids[package] = conn.execute(
                sa.insert(packages)
                .values(
                    namespace=namespace,
                    name=name,
                    package_hash=hashlib.sha256(package.encode()).hexdigest(),
                    package=package,
                )
                .returning(packages.c.id)
            ).scalar_one()
        links.add((package_id, digest))
    if links:
        conn.execute(sa.insert(pairs), [{"package_id": p, "digest": d} for p, d in sorted(links)])


def downgrade() -> None:
    with op.batch_alter_table("events_outbox") as batch_op:
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
    conn = op.get_bind()
    decompressor = zstandard.ZstdDecompressor()
    rows = conn.execute(sa.select(_OUTBOX.c.id, _OUTBOX.c.body_zstd)).fetchall()
    if rows:
        conn.execute(
            sa.update(_OUTBOX)
            .where(_OUTBOX.c.id == sa.bindparam("_id"))
            .values(body=sa.bindparam("_body")),
            [{"_id": i, "_body": decompressor.decompress(z).decode()} for i, z in rows],
        )
    with op.batch_alter_table("events_outbox") as batch_op:
        batch_op.alter_column("body", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("body_zstd")
    op.create_index("ix_findings_digest", "findings", ["digest", "status"])
    with op.batch_alter_table("findings") as batch_op:
        batch_op.add_column(sa.Column("details", sa.Text(), nullable=False, server_default="{}"))
    op.execute(
        "UPDATE findings SET details = "
        "(SELECT d.details FROM finding_details d WHERE d.id = findings.details_id)"
    )
    with op.batch_alter_table("findings") as batch_op:
        batch_op.drop_constraint("fk_findings_details_id_finding_details", type_="foreignkey")
        batch_op.drop_column("details_id")
    op.drop_table("finding_details")
    op.create_table(
        "inventory_packages_v1",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("digest", sa.String(length=150), nullable=False),
        sa.Column("package", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inventory_packages_v1"),
    )
    op.execute(
        "INSERT INTO inventory_packages_v1 (namespace, name, digest, package) "
        "SELECT p.namespace, p.name, i.digest, p.package "
        "FROM inventory_packages i JOIN indexed_packages p ON p.id = i.package_id"
    )
    op.drop_table("inventory_packages")
    op.drop_table("indexed_packages")
    op.rename_table("inventory_packages_v1", "inventory_packages")
    op.create_index("ix_inventory_packages_digest", "inventory_packages", ["digest"])
    op.create_index("ix_inventory_packages_key", "inventory_packages", ["namespace", "name"])
