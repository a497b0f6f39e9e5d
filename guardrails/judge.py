"""Tier 2: an LLM judge of grounding, coherence and compliance, with a rationale for each;
and a one-word grounding judge whose probability of "Yes" is the score the cascade thresholds.

Small local models wrap JSON in prose or code fences and write booleans as strings, so the reply
is read leniently: the first ``{...}`` object, criterion names in any case, "yes"/"pass"/"true"
as true. A reply that still does not fit is asked for once more (with the bad reply shown back);
a second miss raises :class:`JudgeOutputError`, an :class:`LLMError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.errors import LLMError
from core.llm.base import ChatMessage, ChatModel, first_json_object
from core.prompts import Prompt
from core.prompts.ask import ask
from guardrails.verdict import JudgeCriterion, JudgeVerdict
from knowledge_base.articles import Passage, format_passages

_CRITERIA = ("grounding", "coherence", "compliance")
_TRUE = frozenset({"true", "yes", "ok", "pass", "passed", "1"})
_FALSE = frozenset({"false", "no", "not ok", "fail", "failed", "0"})
_REASK = (
    "Your reply was not the JSON object asked for. Reply with only that JSON object: "
    'keys "grounding", "coherence", "compliance", each {"rationale": "...", "ok": true or false}.'
)


class JudgeOutputError(LLMError):
    """The judge twice replied with something that is not a verdict."""


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | str):
        word = str(value).strip().lower()
        return True if word in _TRUE else False if word in _FALSE else None
    return None


def _criterion(value: object) -> JudgeCriterion | None:
    """``{"rationale": ..., "ok": ...}``, or a bare boolean-ish value."""
    if not isinstance(value, Mapping):
        ok = _as_bool(value)
        return JudgeCriterion(ok=ok) if ok is not None else None
    fields = {str(key).strip().lower(): item for key, item in value.items()}
    ok = _as_bool(fields.get("ok"))
    if ok is None:
        return None
    return JudgeCriterion(ok=ok, rationale=str(fields.get("rationale") or "").strip())


def parse_verdict(text: str) -> JudgeVerdict | None:
    """The verdict in a judge reply, or None when the reply does not hold one."""
    data = first_json_object(text)
    if not isinstance(data, Mapping):
        return None
    fields = {str(key).strip().lower(): value for key, value in data.items()}
    grounding, coherence, compliance = (_criterion(fields.get(name)) for name in _CRITERIA)
    if grounding is None or coherence is None or compliance is None:
        return None
    return JudgeVerdict(grounding=grounding, coherence=coherence, compliance=compliance)


def _values(
    conversation: str,
    passages: Sequence[Passage],
    answer: str,
    *,
    rubric: str = "",
    question: str = "",
) -> dict[str, str]:
    """A judge prompt's fields, with a placeholder for each empty one; a prompt uses the fields
    it names (``{rubric}``, ``{question}``) and ignores the others."""
    return {
        "conversation": conversation.strip() or "(no earlier messages)",
        "passages": format_passages(passages) or "(no passages)",
        "answer": answer,
        "rubric": rubric or "- (no extra rules)",
        "question": question.strip() or "(none)",
    }


def judge_answer(
    model: ChatModel,
    *,
    conversation: str,
    passages: Sequence[Passage],
    answer: str,
    prompt: Prompt,
    rubric: str = "",
) -> JudgeVerdict:
    """The judge's verdict on ``answer``; raises :class:`LLMError` when there is none."""
    asked = ask(
        model,
        prompt,
        _values(conversation, passages, answer, rubric=rubric),
        parse_verdict,
        reask=lambda reply: [
            ChatMessage(role="assistant", content=reply),
            ChatMessage(role="user", content=_REASK),
        ],
    )
    if asked.value is None:
        raise JudgeOutputError(
            f"judge {prompt.ref} gave no verdict twice; last reply: {asked.replies[-1]!r:.200}"
        )
    return asked.value


def grounding_probability(
    model: ChatModel,
    *,
    conversation: str,
    passages: Sequence[Passage],
    answer: str,
    prompt: Prompt,
    question: str = "",
) -> float:
    """The judge's probability that every claim of ``answer`` is supported; LLMError if none.

    ``question``: the customer's question that ``answer`` says yes or no to, for prompts that
    show it (``{question}``) instead of the conversation."""
    messages = prompt.render(**_values(conversation, passages, answer, question=question))
    return model.option_probabilities(messages, ("Yes", "No"))["Yes"]
