"""Initial schema: conversations, messages, escalations (reasons, events), API keys, KB gaps,
regression cases.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 01:54:03.707637
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.storage.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", assistant.storage.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_name"), ["name"], unique=False)

    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_ref", sa.String(length=200), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("created_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversations_owner"), ["owner"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_messages_conversation_id"), ["conversation_id"], unique=False
        )

    op.create_table(
        "escalations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("due_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("issue_type", sa.String(length=64), nullable=False),
        sa.Column("core_issue", sa.Text(), nullable=False),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("resolution", sa.JSON(), nullable=False),
        sa.Column("created_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("updated_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalations_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            "ix_escalations_queue", ["status", "priority_rank", "created_at"], unique=False
        )

    op.create_table(
        "escalation_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("escalation_id", sa.String(length=32), nullable=False),
        sa.Column("at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("escalation_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_events_escalation_id"), ["escalation_id"], unique=False
        )

    op.create_table(
        "escalation_reasons",
        sa.Column("escalation_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
        ),
        sa.PrimaryKeyConstraint("escalation_id", "reason"),
    )
    with op.batch_alter_table("escalation_reasons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_reasons_reason"), ["reason"], unique=False)

    op.create_table(
        "kb_gaps",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("escalation_id", sa.String(length=32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("issue_type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_gaps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_gaps_escalation_id"), ["escalation_id"], unique=False
        )

    op.create_table(
        "regression_cases",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("escalation_id", sa.String(length=32), nullable=False),
        sa.Column("case", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("regression_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_regression_cases_escalation_id"), ["escalation_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("regression_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regression_cases_escalation_id"))

    op.drop_table("regression_cases")
    with op.batch_alter_table("kb_gaps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_gaps_escalation_id"))

    op.drop_table("kb_gaps")
    with op.batch_alter_table("escalation_reasons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_reasons_reason"))

    op.drop_table("escalation_reasons")
    with op.batch_alter_table("escalation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_events_escalation_id"))

    op.drop_table("escalation_events")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_queue")
        batch_op.drop_index(batch_op.f("ix_escalations_conversation_id"))

    op.drop_table("escalations")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_conversation_id"))

    op.drop_table("messages")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_owner"))

    op.drop_table("conversations")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_name"))

    op.drop_table("api_keys")
