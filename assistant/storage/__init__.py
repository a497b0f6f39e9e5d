"""Conversations, messages, escalations, API keys: SQL through SQLAlchemy, migrated by Alembic."""

from assistant.storage.conversations import StoredConversation, StoredMessage
from assistant.storage.database import Database

__all__ = ["Database", "StoredConversation", "StoredMessage"]
