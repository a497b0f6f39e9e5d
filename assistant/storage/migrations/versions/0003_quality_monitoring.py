"""Quality monitoring: judge and human scores of sampled conversations, drift alerts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:40:47.170479
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.storage.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "drift_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("feature", sa.String(length=64), nullable=False),
        sa.Column("p_value", sa.Double(), nullable=False),
        sa.Column("jsd", sa.Double(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("drift_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drift_alerts_at"), ["at"], unique=False)

    op.create_table(
        "quality_reviews",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("sampled_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("judge_model", sa.String(length=200), nullable=False),
        sa.Column("judge_scores", sa.JSON(), nullable=False),
        sa.Column("judge_rationales", sa.JSON(), nullable=False),
        sa.Column("human_scores", sa.JSON(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("reviewed_at", assistant.storage.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
        ),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    with op.batch_alter_table("quality_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_reviews_sampled_at"), ["sampled_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("quality_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_reviews_sampled_at"))

    op.drop_table("quality_reviews")
    with op.batch_alter_table("drift_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drift_alerts_at"))

    op.drop_table("drift_alerts")
