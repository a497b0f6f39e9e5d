"""Customer feedback on replies, and what agents did with the withheld drafts.

- ``message_feedback``: one row per rated assistant reply (thumbs up or down, an optional
  comment, the case it opened or joined); a second rating of the reply replaces the first.
- ``escalations.draft_use``: what the resolving reply did with the withheld draft (unchanged,
  edited, replaced); NULL for cases resolved before this revision, which were not compared.
- ``experiment_outcomes.reply_message_id``: the reply an outcome's message got, so its feedback
  counts as an outcome of the variant; NULL for outcomes recorded before this revision.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.storage.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_feedback",
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("rating", sa.String(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("escalation_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("updated_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("message_id"),
    )
    with op.batch_alter_table("message_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_feedback_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_message_feedback_updated_at"), ["updated_at"], unique=False
        )

    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_use", sa.String(length=16), nullable=True))

    with op.batch_alter_table("experiment_outcomes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_message_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("experiment_outcomes", schema=None) as batch_op:
        batch_op.drop_column("reply_message_id")

    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_column("draft_use")

    with op.batch_alter_table("message_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_feedback_updated_at"))
        batch_op.drop_index(batch_op.f("ix_message_feedback_conversation_id"))

    op.drop_table("message_feedback")
