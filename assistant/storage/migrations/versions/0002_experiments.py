"""Experiments: exposures (one per unit and experiment) and per-message outcomes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:21:15.205042
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.storage.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "experiment_exposures",
        sa.Column("experiment_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=200), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "unit_id"),
    )
    op.create_table(
        "experiment_outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("experiment_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=200), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("escalation_id", sa.String(length=32), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("judge_score", sa.Double(), nullable=True),
        sa.Column("at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("experiment_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_experiment_outcomes_experiment_id"), ["experiment_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("experiment_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiment_outcomes_experiment_id"))

    op.drop_table("experiment_outcomes")
    op.drop_table("experiment_exposures")
