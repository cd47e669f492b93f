"""IAM-style users, their policies, repository and registry policies

Keys made before users existed keep what they could do: each distinct access_keys.principal
becomes a user with AdministratorAccess attached.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 20:30:00
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    users = op.create_table(
        "iam_users",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_iam_users")),
    )
    attached = op.create_table(
        "iam_user_policies",
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("policy_name", sa.String(128), nullable=False),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("attached_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_name"],
            ["iam_users.name"],
            name=op.f("fk_iam_user_policies_user_name_iam_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_name", "policy_name", name=op.f("pk_iam_user_policies")),
    )
    op.create_table(
        "repository_policies",
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_repository_policies_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_repository_policies")),
    )
    op.create_table(
        "registry_policies",
        sa.Column("registry_id", sa.String(12), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("registry_id", name=op.f("pk_registry_policies")),
    )
    conn = op.get_bind()
    keys = sa.table("access_keys", sa.column("principal", sa.String))
    now = time.time()
    for (name,) in conn.execute(sa.select(keys.c.principal).distinct()):
        conn.execute(sa.insert(users).values(name=name, created_at=now))
        conn.execute(
            sa.insert(attached).values(
                user_name=name, policy_name="AdministratorAccess", document=None, attached_at=now
            )
        )


def downgrade() -> None:
    op.drop_table("registry_policies")
    op.drop_table("repository_policies")
    op.drop_table("iam_user_policies")
    op.drop_table("iam_users")
