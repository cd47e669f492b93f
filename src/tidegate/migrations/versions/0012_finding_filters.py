"""Inspector filters and suppression rules (CreateFilter), VEX statements; findings may be
SUPPRESSED

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "finding_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arn", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.String(length=34), nullable=False),
        sa.Column("author", sa.String(length=512), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("lapsed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_filters")),
        sa.UniqueConstraint("arn", name=op.f("uq_finding_filters_arn")),
        sa.UniqueConstraint("name", name=op.f("uq_finding_filters_name")),
    )
    op.create_table(
        "vex_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("document_digest", sa.String(length=150), nullable=False),
        sa.Column("subject_digest", sa.String(length=150), nullable=True),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("vuln_id", sa.String(length=128), nullable=False),
        sa.Column("package_name", sa.String(length=512), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("justification", sa.String(length=128), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_vex_statements_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vex_statements")),
    )
    op.create_index("ix_vex_statements_match", "vex_statements", ["vuln_id", "repository_id"])
    op.create_index(
        "ix_vex_statements_document", "vex_statements", ["repository_id", "document_digest"]
    )


def downgrade() -> None:
    op.drop_index("ix_vex_statements_document", table_name="vex_statements")
    op.drop_index("ix_vex_statements_match", table_name="vex_statements")
    op.drop_table("vex_statements")
    op.drop_table("finding_filters")
