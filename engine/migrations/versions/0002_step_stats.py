"""Running step statistics for estimates, and the step's slow-notice attempt.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "step_stats",
        sa.Column("kind", sa.String(length=200), nullable=False),
        sa.Column("step_key", sa.String(length=200), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("mean_x", sa.Float(), nullable=False),
        sa.Column("mean_y", sa.Float(), nullable=False),
        sa.Column("m2_x", sa.Float(), nullable=False),
        sa.Column("m2_y", sa.Float(), nullable=False),
        sa.Column("c_xy", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "step_key"),
    )
    with op.batch_alter_table("steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slow_attempt", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("steps", schema=None) as batch_op:
        batch_op.drop_column("slow_attempt")
    op.drop_table("step_stats")
