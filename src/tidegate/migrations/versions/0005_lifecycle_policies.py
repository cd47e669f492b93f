"""ECR lifecycle policies per repository

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lifecycle_policies",
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=True),
        sa.Column("evaluated_at", sa.Float(), nullable=True),
        sa.Column("preview_policy", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_lifecycle_policies_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_lifecycle_policies")),
    )


def downgrade() -> None:
    op.drop_table("lifecycle_policies")
