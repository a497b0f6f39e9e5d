"""The one seam to language models: :class:`ChatModel`, with an adapter per backend."""

from core.llm.base import ChatMessage, ChatModel, Completion
from core.llm.fake import FakeChatModel

__all__ = ["ChatMessage", "ChatModel", "Completion", "FakeChatModel"]
