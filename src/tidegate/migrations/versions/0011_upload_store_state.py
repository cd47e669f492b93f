"""Blob-store state of an upload session (S3 multipart id, parts, buffered tail)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("store_state", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("store_state")
