"""findings.fix_state: the feed's fix state per finding (issue 11)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch_op:
        batch_op.add_column(
            sa.Column("fix_state", sa.String(length=16), server_default="not_fixed", nullable=False)
        )
    # Rows written before this knew only fixed / not fixed; the next scan refines the rest.
    findings = sa.table("findings", sa.column("fix_state"), sa.column("fix_available"))
    op.get_bind().execute(
        sa.update(findings).where(findings.c.fix_available == "YES").values(fix_state="fixed")
    )


def downgrade() -> None:
    with op.batch_alter_table("findings") as batch_op:
        batch_op.drop_column("fix_state")
