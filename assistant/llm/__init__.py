"""The one seam to language models: :class:`ChatModel`, with an adapter per backend."""

from assistant.llm.base import ChatMessage, ChatModel, Completion
from assistant.llm.fake import FakeChatModel

__all__ = ["ChatMessage", "ChatModel", "Completion", "FakeChatModel"]
