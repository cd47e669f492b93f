"""Daily snapshot of open findings per severity (the console's chart history)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "findings_daily",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("open_count", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", "severity", name=op.f("pk_findings_daily")),
    )


def downgrade() -> None:
    op.drop_table("findings_daily")
