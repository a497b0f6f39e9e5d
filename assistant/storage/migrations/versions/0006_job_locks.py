"""Job locks: one row per job that some process runs now (``job_locks``), so that a second run
of the monitor or an ingest, started from another replica while one runs, does not run.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.storage.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_locks",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("expires_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job"),
    )


def downgrade() -> None:
    op.drop_table("job_locks")
