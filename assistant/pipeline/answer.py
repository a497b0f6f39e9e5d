"""Chain-of-thought answers over retrieved passages, parsed into reasoning, answer and citations."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, Field, ValidationError

from core.llm.base import ChatModel, first_json_object
from core.prompts import Prompt
from core.prompts.ask import Asked, ask
from knowledge_base.articles import Passage, format_passages

_CITATION = re.compile(r"\[([A-Za-z0-9][\w.-]*)\]")


class AnswerDraft(BaseModel):
    """What the model wrote. ``reasoning`` is kept in the trace and never shown to the customer."""

    reasoning: str = ""
    answerable: bool = True
    answer: str = ""
    citations: list[str] = Field(default_factory=list)


# What the model gave: the draft (``value``; None when its output never parsed, even after the
# retry), the attempts, the tokens they cost and the raw replies.
GeneratedAnswer = Asked[AnswerDraft]


def strip_citations(text: str) -> str:
    without = re.sub(r"[ \t]{2,}", " ", _CITATION.sub("", text))
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", without).strip()


def parse_draft(text: str, allowed_ids: Sequence[str]) -> AnswerDraft | None:
    """The draft in ``text``, or None when it is not the JSON object the prompt asks for.

    Citations are kept only when they name a retrieved article; inline ``[id]`` markers in the
    answer count as citations too, and are removed from the text the customer sees.
    """
    try:
        draft = AnswerDraft.model_validate(first_json_object(text))
    except ValidationError:
        return None
    if draft.answerable and not draft.answer.strip():
        return None
    allowed = set(allowed_ids)
    cited = [*draft.citations, *_CITATION.findall(draft.answer)]
    citations = list(dict.fromkeys(c.strip("[] ") for c in cited if c.strip("[] ") in allowed))
    return draft.model_copy(
        update={"answer": strip_citations(draft.answer), "citations": citations}
    )


def generate_answer(
    model: ChatModel,
    prompt: Prompt,
    *,
    question: str,
    conversation: str,
    passages: Sequence[Passage],
) -> GeneratedAnswer:
    """One call, and one retry when the output is malformed. Service failures raise LLMError."""
    allowed = [p.article_id for p in passages]
    values = {"passages": format_passages(passages), "conversation": conversation}
    return ask(model, prompt, {**values, "question": question}, lambda t: parse_draft(t, allowed))
