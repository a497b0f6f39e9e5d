"""The condense stage: a conversation reduced to its core issue, the query that classification
and retrieval work on."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.conversation import Turn, transcript
from core.llm.base import ChatModel
from core.prompts import Prompt

# Words that make a message lean on what came before ("and how long does *that* take?").
_ANAPHORA = re.compile(
    r"\b(it|its|that|this|those|these|they|them|there|then|same|one|what about|how about|and|"
    r"also)\b",
    re.IGNORECASE,
)
_STANDALONE_WORDS = 9


def leans_on_context(message: str) -> bool:
    """A short message, or one that opens with or refers back through a pronoun, needs context."""
    words = message.split()
    return len(words) < _STANDALONE_WORDS or bool(_ANAPHORA.search(" ".join(words[:4])))


def core_issue(turns: Sequence[Turn]) -> str:
    """The standalone query for classification and retrieval, without a model call.

    The latest customer message alone when it stands alone; otherwise it comes first, followed by
    the previous assistant turn (which names what "it" is) and the previous customer message.
    """
    customer = [t.text.strip() for t in turns if t.role == "customer" and t.text.strip()]
    if not customer:
        return ""
    latest = customer[-1]
    if len(customer) == 1 or not leans_on_context(latest):
        return latest
    before = list(turns)[: max(i for i, t in enumerate(turns) if t.role == "customer")]
    context = [t.text for t in before if t.role != "customer"][-1:] + customer[-2:-1]
    return " ".join([latest, *context])


def core_issue_by_llm(turns: Sequence[Turn], model: ChatModel, prompt: Prompt) -> str:
    """The LLM rewrite of the conversation into one standalone question (costs one model call).

    A rewrite that is no question (the small model sometimes answers instead: "Yes, you will be
    charged ...") would be answered as if the customer had said it, so the rule's query is used.
    """
    customer = [t for t in turns if t.role == "customer"]
    if len(customer) <= 1:
        return core_issue(turns)
    completion = model.complete(
        prompt.render(conversation=transcript(turns)), max_tokens=prompt.max_tokens
    )
    lines = completion.text.strip().splitlines()
    question = lines[0].strip() if lines else ""
    return question if question.endswith("?") else core_issue(turns)
