"""Console sessions, conversations owned by key id, one seq per message of a conversation.

- ``console_sessions``: the console's logins (a random token in the cookie, its hash here).
- ``conversations.owner_key_id``: filled from the owner's name, with the oldest key of that name;
  a conversation whose owner name has no key keeps NULL, which only staff can read.
- ``messages``: conversations that hold duplicate ``seq`` values (messages written at once
  before this revision) are renumbered 1, 2, 3... in ``created_at`` order, then a unique index
  on (conversation_id, seq) keeps it so.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.storage.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _renumber_duplicate_seqs() -> None:
    bind = op.get_bind()
    conversations = (
        bind.execute(
            sa.text(
                "SELECT DISTINCT conversation_id FROM messages "
                "GROUP BY conversation_id, seq HAVING COUNT(*) > 1"
            )
        )
        .scalars()
        .all()
    )
    for conversation_id in conversations:
        ids = (
            bind.execute(
                sa.text(
                    "SELECT id FROM messages WHERE conversation_id = :cid "
                    "ORDER BY created_at, seq, id"
                ),
                {"cid": conversation_id},
            )
            .scalars()
            .all()
        )
        for seq, message_id in enumerate(ids, start=1):
            bind.execute(
                sa.text("UPDATE messages SET seq = :seq WHERE id = :id"),
                {"seq": seq, "id": message_id},
            )


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("expires_at", assistant.storage.tables.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", assistant.storage.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_sessions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_console_sessions_key_id"), ["key_id"], unique=False)

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_key_id", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_conversations_owner_key_id"), ["owner_key_id"], unique=False
        )
    op.execute(
        "UPDATE conversations SET owner_key_id = ("
        " SELECT k.id FROM api_keys k WHERE k.name = conversations.owner"
        " ORDER BY k.created_at, k.id LIMIT 1"
        ") WHERE owner IS NOT NULL"
    )

    _renumber_duplicate_seqs()
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ux_messages_conversation_seq", ["conversation_id", "seq"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ux_messages_conversation_seq")

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_owner_key_id"))
        batch_op.drop_column("owner_key_id")

    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_key_id"))
        batch_op.drop_index(batch_op.f("ix_console_sessions_expires_at"))

    op.drop_table("console_sessions")
