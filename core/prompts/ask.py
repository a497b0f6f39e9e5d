"""Ask a prompt and parse the reply: the one loop every caller of a model runs.

A reply that does not parse is asked for again (``attempts`` in all), with the same messages or,
when ``reask`` is given, with the bad reply shown back and a correction. Token usage is summed
over every attempt. Service failures raise :class:`~core.errors.LLMError`; callers that would
rather score nothing than fail catch it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from core.errors import LLMError
from core.llm.base import ChatMessage, ChatModel, TextSink, first_json_object
from core.prompts import Prompt

T = TypeVar("T")
Reask = Callable[[str], Sequence[ChatMessage]]


@dataclass
class Asked(Generic[T]):
    """What the model gave: the parsed value (None when no reply parsed) and what it cost."""

    value: T | None = None
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    replies: list[str] = field(default_factory=list)


def ask(
    model: ChatModel,
    prompt: Prompt,
    values: Mapping[str, str],
    parse: Callable[[str], T | None],
    *,
    attempts: int = 2,
    reask: Reask | None = None,
    on_text: TextSink | None = None,
    on_retry: Callable[[], None] | None = None,
) -> Asked[T]:
    """Render ``prompt`` with ``values``, ask ``model`` and parse the reply, up to ``attempts``
    times. ``reask(reply)`` gives the messages appended after a reply that did not parse;
    ``on_text`` receives each reply as it is generated, ``on_retry`` is called before another."""
    messages = prompt.render(**values)
    asked: Asked[T] = Asked()
    for attempt in range(attempts):
        if attempt and on_retry is not None:
            on_retry()
        completion = model.complete(
            messages, max_tokens=prompt.max_tokens, json_mode=prompt.json_mode, on_text=on_text
        )
        asked.attempts += 1
        asked.prompt_tokens += completion.prompt_tokens
        asked.completion_tokens += completion.completion_tokens
        asked.replies.append(completion.text)
        asked.value = parse(completion.text)
        if asked.value is not None:
            break
        if reask is not None:
            messages = [*messages, *reask(completion.text)]
    return asked


def ask_parsed(
    model: ChatModel,
    prompt: Prompt,
    values: Mapping[str, str],
    parse: Callable[[str], T | None],
) -> T | None:
    """:func:`ask`'s value, or None when no reply parsed or the model failed (for scores, where
    no number is better than a made-up one)."""
    try:
        return ask(model, prompt, values, parse).value
    except LLMError:
        return None


@dataclass(frozen=True)
class Score:
    value: float
    rationale: str = ""


def parse_scores(text: str, names: Sequence[str], *, nested: bool) -> dict[str, Score] | None:
    """A 1-5 score per name from the first JSON object in ``text``: ``{"name": 4}``, or with
    ``nested`` ``{"name": {"rationale": "...", "score": 4}}``. None unless every name has one."""
    data = first_json_object(text)
    if not isinstance(data, Mapping):
        return None
    scores: dict[str, Score] = {}
    for name in names:
        item = data.get(name)
        if nested and not isinstance(item, Mapping):
            return None
        value = item.get("score") if isinstance(item, Mapping) and nested else item
        if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 5:
            return None
        rationale = str(item.get("rationale") or "").strip() if isinstance(item, Mapping) else ""
        scores[name] = Score(float(value), rationale)
    return scores
