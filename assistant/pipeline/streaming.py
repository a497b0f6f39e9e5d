"""What a streamed reply sends, and the gate that decides when an answer sentence may be sent.

While the model writes, each answer sentence that is complete is held against the passages by
tier 1 alone (guardrails.cascade.check_tier1). The sentences that pass, in order, are sent at
once; the first that does not is held, and so is every sentence after it: they wait for the
whole answer's check (the judge included, as the non-streamed path runs it), and are sent only if
it passes. No sentence reaches the customer before it has passed. A reply that quotes its
evidence first (``QUOTES:`` ... ``ANSWER:``, or a JSON ``"quotes"`` list before ``"answer"``) has
its quotes checked when the answer starts: one that no passage holds holds the whole answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from assistant.pipeline.answer import (
    CITATION,
    answer_text,
    json_answer_text,
    json_quotes_in,
    quotes_in,
)
from assistant.pipeline.reply import Citation
from guardrails.output import strip_markup
from guardrails.quotes import Quote
from guardrails.sentences import split_sentences
from guardrails.tier1 import attach_bare_replies


class Progress(BaseModel):
    """A stage of the message path has started."""

    kind: Literal["progress"] = "progress"
    stage: str


class Sentence(BaseModel):
    """An answer sentence that passed the check, with the articles it cites."""

    kind: Literal["sentence"] = "sentence"
    text: str
    citations: list[Citation] = Field(default_factory=list)


Event = Annotated[Progress | Sentence, Field(discriminator="kind")]
EventSink = Callable[[Progress | Sentence], None]

# Citation markers survive sentence splitting as these tokens, then go to their sentence.
_TOKEN = re.compile(r"\s*\u27e6([^\u27e7]+)\u27e7")
_LEADING_TOKENS = re.compile(r"^(?:\s*\u27e6[^\u27e7]+\u27e7)+")


def cited_sentences(raw: str) -> list[tuple[str, list[str]]]:
    """The answer's sentences as the check splits them, each with the ids its markers cite (a
    marker written after a sentence's full stop belongs to that sentence)."""
    protected = CITATION.sub(lambda m: f" \u27e6{m[1]}\u27e7", raw)
    peeled: list[tuple[str, list[str]]] = []
    for part in split_sentences(protected):
        lead = _LEADING_TOKENS.match(part)
        if lead and peeled:
            peeled[-1][1].extend(_TOKEN.findall(lead.group(0)))
            part = part[lead.end() :]
        text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(_TOKEN.sub("", part).split()))
        if text:
            peeled.append((text, _TOKEN.findall(part)))
    # Bare replies ("Yes.") join their neighbour, as the check joins them; so do their ids.
    merged: list[tuple[str, list[str]]] = []
    rest = iter(peeled)
    for sentence in attach_bare_replies([text for text, _ in peeled]):
        joined, ids = next(rest)
        while joined != sentence:
            text, more = next(rest)
            joined, ids = f"{joined} {text}", [*ids, *more]
        merged.append((sentence, ids))
    return merged


class SentenceGate:
    """Feeds on the model's text as it is generated (``feed``), sends each complete sentence that
    ``passes`` while no earlier one was held, and at the end (``finish``) sends the rest when the
    whole answer passed. ``shown`` is what the customer has seen."""

    def __init__(
        self,
        passes: Callable[[str], bool],
        send: EventSink,
        titles: Mapping[str, str],
        *,
        json: bool = False,
        quoted: Callable[[list[Quote]], bool] | None = None,
    ) -> None:
        """``json``: the reply is a JSON object whose ``"answer"`` string is what streams;
        ``quoted``: whether a plain reply's quotes are all passages' own words."""
        self._passes = passes
        self._quoted = quoted
        self._quotes_checked = False
        self._send = send
        self._titles = titles
        self._answer_of = json_answer_text if json else answer_text
        self._quotes_of = json_quotes_in if json else quotes_in
        self._raw = ""
        self._offered = 0
        self.held = False
        self.shown: list[str] = []

    def restart(self) -> None:
        """The model starts its reply again (a retry): forget the text, keep what was shown."""
        self._raw = ""
        self._offered = 0
        self._quotes_checked = False

    def feed(self, piece: str) -> None:
        self._raw += piece
        answer = self._answer_of(self._raw)
        if answer and self._quoted is not None and not self._quotes_checked:
            # The quotes are complete once the answer starts.
            self._quotes_checked = True
            self.held = self.held or not self._quoted(self._quotes_of(self._raw))
        complete = cited_sentences(strip_markup(answer))[:-1]  # the last goes on
        for text, ids in complete[self._offered :]:
            self._offer(text, ids)
        self._offered = max(self._offered, len(complete))

    def finish(self, passed: bool, answer: str) -> None:
        """The whole answer's check is done: send what was held, and the last sentence, if it
        passed; otherwise send nothing more. ``answer`` is the draft's answer, for a reply that
        did not stream through ``feed`` (a JSON one)."""
        if not passed:
            self.held = True
            return
        raw = strip_markup(self._answer_of(self._raw)) if self._raw else answer
        for text, ids in cited_sentences(raw)[len(self.shown) :]:
            self._emit(text, ids)

    def _offer(self, text: str, ids: list[str]) -> None:
        if not self.held and self._passes(text):
            self._emit(text, ids)
        else:
            self.held = True

    def _emit(self, text: str, ids: list[str]) -> None:
        citations = [
            Citation(article_id=i, title=self._titles[i])
            for i in dict.fromkeys(ids)
            if i in self._titles
        ]
        self.shown.append(text)
        self._send(Sentence(text=text, citations=citations))
