"""Vulnerability DB versions shared through the metadata DB (scale-out)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vulndb_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_vulndb_versions")),
    )
    op.create_table(
        "vulndb_chunks",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"],
            ["vulndb_versions.version"],
            name=op.f("fk_vulndb_chunks_version_vulndb_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version", "seq", name=op.f("pk_vulndb_chunks")),
    )


def downgrade() -> None:
    op.drop_table("vulndb_chunks")
    op.drop_table("vulndb_versions")
