"""Answers over retrieved passages, parsed into the reasoning or quotes, the answer and citations.

Three formats, chosen by the prompt: a JSON object (``json_mode``: reasoning, answerable, answer,
citations); plain text: optionally the quoted evidence after ``QUOTES:``, then the answer
(after ``ANSWER:`` when quotes come first), with ``[article-id]`` markers; a reply that says the
passages do not answer (``NOT IN THE EXCERPTS``, or ``NONE`` as the quotes) is not answerable;
or extractive (``extractive``): the passages are numbered sentences, the model names the
numbers that answer (``SENTENCES: 4, 5`` or ``none``), and the answer is those sentences in
the passages' own words, so it can say nothing the knowledge base does not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from assistant.pipeline.focus import GAP
from core.conversation import Turn, before_latest, transcript
from core.errors import LLMError
from core.llm.base import ChatModel, TextSink, first_json_object
from core.prompts import ARTICLE_HEADING, Prompt
from core.prompts.ask import Asked, ask
from guardrails.output import strip_markup
from guardrails.quotes import Quote
from guardrails.sentences import split_sentences
from knowledge_base.articles import Passage, format_passages

# What an answer prompt shows as the conversation before the customer's latest message when
# there was none.
NO_EARLIER = "(none)"
CITATION = re.compile(r"\[([A-Za-z0-9][\w.-]*)\]")


class AnswerDraft(BaseModel):
    """What the model wrote. ``reasoning`` and ``quotes`` are kept in the trace and never shown to
    the customer."""

    reasoning: str = ""
    answerable: bool = True
    answer: str = ""
    citations: list[str] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)
    # The model's probability of declining instead (its prompt's ``decline_option``), when read.
    decline_probability: float | None = None

    def thinking(self) -> str:
        """What the model wrote before its answer, for the trace: its reasoning, or its quotes."""
        return self.reasoning or "\n".join(f"[{q.article_id}] {q.text}" for q in self.quotes)


# What the model gave: the draft (``value``; None when its output never parsed, even after the
# retry), the attempts, the tokens they cost and the raw replies.
GeneratedAnswer = Asked[AnswerDraft]


def strip_citations(text: str) -> str:
    without = re.sub(r"[ \t]{2,}", " ", CITATION.sub("", text))
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", without).strip()


_QUOTES = re.compile(r"^\s*QUOTES:\s*", re.IGNORECASE | re.MULTILINE)
_ANSWER = re.compile(r"^\s*ANSWER:\s*", re.IGNORECASE | re.MULTILINE)
_QUOTE_LINE = re.compile(r"^\s*[-*]?\s*\[([A-Za-z0-9][\w.-]*)\]\s*(.+?)\s*$")
_UNANSWERABLE = re.compile(r"NOT IN THE EXCERPTS|^\s*NONE\s*$", re.IGNORECASE | re.MULTILINE)


def answer_text(text: str) -> str:
    """The answer part of a plain-text reply (what may reach the customer), so far."""
    marker = _ANSWER.search(text)
    if marker is not None:
        return text[marker.end() :]
    return "" if _QUOTES.search(text) else text


_JSON_ANSWER = re.compile(r'"answer"\s*:\s*"')
_JSON_ESCAPES = dict(zip('"\\/bfnrt', '"\\/\b\f\n\r\t', strict=True))


def json_answer_text(text: str) -> str:
    """The ``"answer"`` string of a JSON reply as far as it is written (the reasoning before it
    is never shown); "" until it starts, or when the reply says it cannot answer."""
    start = _JSON_ANSWER.search(text)
    if start is None or re.search(r'"answerable"\s*:\s*false', text[: start.start()]):
        return ""
    out: list[str] = []
    i = start.end()
    while i < len(text):
        char = text[i]
        if char == '"':
            break
        if char == "\\":
            if i + 1 >= len(text):
                break  # an escape cut in half: wait for the rest
            code = text[i + 1]
            if code == "u":
                if i + 6 > len(text):
                    break
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_JSON_ESCAPES.get(code, code))
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def quotes_in(text: str) -> list[Quote]:
    """The quotes of a plain-text reply before its ``ANSWER:`` (so far, while it is written)."""
    marker, end = _QUOTES.search(text), _ANSWER.search(text)
    if marker is None:
        return []
    section = text[marker.end() : end.start() if end else len(text)]
    lines = (_QUOTE_LINE.match(line) for line in section.splitlines())
    return [Quote(article_id=m[1], text=m[2].strip('"\u201c\u201d ')) for m in lines if m]


_JSON_QUOTES = re.compile(r'"quotes"\s*:\s*(?=\[)')


def json_quotes_in(text: str) -> list[Quote]:
    """The ``"quotes"`` of a JSON reply once that list is complete; [] before, or when it is not
    a list of quotes."""
    start = _JSON_QUOTES.search(text)
    if start is None:
        return []
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start.end())
        return TypeAdapter(list[Quote]).validate_python(value)
    except (ValueError, ValidationError):
        return []


def parse_plain(text: str) -> AnswerDraft | None:
    """A plain-text reply as a draft; None when it holds no answer and does not decline."""
    answer = answer_text(text).strip()
    if _UNANSWERABLE.search(answer or text):
        return AnswerDraft(answerable=False, quotes=quotes_in(text))
    if not answer:
        return None
    return AnswerDraft(answer=answer, quotes=quotes_in(text))


def parse_json(text: str) -> AnswerDraft | None:
    try:
        draft = AnswerDraft.model_validate(first_json_object(text))
    except ValidationError:
        return None
    if draft.answerable and not draft.answer.strip():
        return None
    return draft


def parse_draft(text: str, allowed_ids: Sequence[str], *, json: bool = True) -> AnswerDraft | None:
    """The draft in ``text``, or None when it is not in the format the prompt asks for.

    Citations are kept only when they name a retrieved article; inline ``[id]`` markers in the
    answer count as citations too, and are removed from the text the customer sees.
    """
    draft = parse_json(text) if json else parse_plain(text)
    if draft is None:
        return None
    allowed = set(allowed_ids)
    cited = [*draft.citations, *CITATION.findall(draft.answer)]
    citations = list(dict.fromkeys(c.strip("[] ") for c in cited if c.strip("[] ") in allowed))
    return draft.model_copy(
        update={"answer": strip_citations(strip_markup(draft.answer)), "citations": citations}
    )


class Latest(BaseModel):
    """What the customer asked, as an answer prompt may show it apart from the core issue: their
    latest message in their own words, and the conversation before it."""

    message: str
    earlier: str = NO_EARLIER

    @classmethod
    def of(cls, turns: Sequence[Turn]) -> Latest:
        """The customer's latest message, and the turns before it as a transcript on lines of
        their own (``NO_EARLIER`` when there are none)."""
        before, message = before_latest(turns)
        return cls(message=message, earlier=f"\n{transcript(before)}" if before else NO_EARLIER)


class Numbered(BaseModel):
    """A passage sentence as an extractive prompt shows it: its number is its place in the list,
    counted from 1."""

    article_id: str
    text: str


def _sentences_of(passage: Passage) -> list[str]:
    """A passage's sentences; focused evidence marks left-out sentences with an ellipsis, which
    is no part of any sentence."""
    return [s for part in passage.text.split(GAP) for s in split_sentences(part)]


def numbered(
    passages: Sequence[Passage], heading: str = ARTICLE_HEADING
) -> tuple[list[Numbered], str]:
    """The passages' sentences in order (a sentence's number is its place, from 1), and the
    passages as an extractive prompt shows them: each passage's ``heading`` (by default
    ``[article-id] Title > Section``), then each sentence on a line of its own after its
    number."""
    sentences: list[Numbered] = []
    blocks = []
    for passage in passages:
        lines = [heading.format(article_id=passage.article_id, heading=passage.chunk.heading)]
        for text in _sentences_of(passage):
            sentences.append(Numbered(article_id=passage.article_id, text=text))
            lines.append(f"{len(sentences)}. {text}")
        blocks.append("\n".join(lines))
    return sentences, "\n\n".join(blocks)


_SENTENCES = re.compile(r"SENTENCES?\s*:\s*([^\n]*)", re.IGNORECASE)
_NONE = re.compile(r"^\W*none\b", re.IGNORECASE)
# A reply that is only the numbers ("4, 5", "4 and 5").
_BARE = re.compile(r"^\s*\d+(?:\s*(?:,|;|&|and)?\s*\d+)*\s*\.?\s*$", re.IGNORECASE)
# A line of a reply that copies a sentence out, after a number or a bullet ("1. Tap Settings.").
_LISTED = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+(.+)$", re.MULTILINE)
# The fewest words of a sentence a copied line must give (a cut-off line gives its start).
MIN_COPIED_WORDS = 3
# What a reply that names sentences starts with: a number, or the decline.
DIGITS = tuple(str(d) for d in range(10))
# The most sentences an extractive answer shows (the prompt asks for 1 to 3; a two-part
# question may need one more).
MOST_EXTRACTED = 4


def parse_extract(text: str, sentences: Sequence[Numbered]) -> AnswerDraft | None:
    """An extractive reply (``SENTENCES: 4, 5``, or only ``4, 5``) as a draft: the named
    sentences in their passages' order, each a quote of its article; not answerable on ``none``;
    None when it names no sentence there is."""
    found = _SENTENCES.search(text)
    named = found[1] if found else text.strip().split("\n", 1)[0]
    if _NONE.match(named):
        return AnswerDraft(answerable=False)
    if found is None and not _BARE.match(named):
        return _draft_of(_copied(text, sentences), MOST_EXTRACTED)
    numbers = sorted({int(n) for n in re.findall(r"\d+", named) if 0 < int(n) <= len(sentences)})
    return _draft_of([sentences[n - 1] for n in numbers], MOST_EXTRACTED)


def _copied(text: str, sentences: Sequence[Numbered]) -> list[Numbered]:
    """The sentences a reply copies out instead of naming them (``1. Tap Settings.``, numbered
    its own way, the last line perhaps cut off by the token limit): a line counts only when it
    gives the first words of a listed sentence, so words of the model's own name none."""
    places = {
        next((i for i, s in enumerate(sentences) if _agrees(quoted, s.text)), None)
        for quoted in _LISTED.findall(text)
    }
    return [sentences[i] for i in sorted(p for p in places if p is not None)]


def _agrees(quoted: str, sentence: str) -> bool:
    """The quoted words are the sentence's first words (the last perhaps cut off)."""
    said, whole = _words(quoted), _words(sentence)
    if len(said) < MIN_COPIED_WORDS or len(said) > len(whole):
        return False
    *complete, last = said
    return whole[: len(complete)] == complete and whole[len(complete)].startswith(last)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _draft_of(chosen: Sequence[Numbered], most: int) -> AnswerDraft | None:
    """The answer of the first ``most`` chosen sentences (in their order); a sentence a manual
    says twice (in two sections, or with other punctuation) is shown once."""
    first: dict[tuple[str, ...], Numbered] = {}
    for sentence in chosen:
        first.setdefault(tuple(_words(sentence.text)), sentence)
    kept = list(first.values())[:most]
    if not kept:
        return None
    return AnswerDraft(
        answer=" ".join(s.text for s in kept),
        citations=list(dict.fromkeys(s.article_id for s in kept)),
        quotes=[Quote(article_id=s.article_id, text=s.text) for s in kept],
    )


def _together(answers: Sequence[GeneratedAnswer], sentences: Sequence[Numbered]) -> GeneratedAnswer:
    """The extractive answers to each question of a message as one: every question's sentences,
    in the passages' order; declined when any question was; malformed when any was."""
    together = GeneratedAnswer(
        attempts=sum(a.attempts for a in answers),
        prompt_tokens=sum(a.prompt_tokens for a in answers),
        completion_tokens=sum(a.completion_tokens for a in answers),
        replies=[r for a in answers for r in a.replies],
    )
    drafts = [a.value for a in answers if a.value is not None]
    if len(drafts) < len(answers):
        return together
    if not all(d.answerable for d in drafts):
        together.value = AnswerDraft(answerable=False)
        return together
    place = {(s.article_id, s.text): i for i, s in enumerate(sentences)}
    quotes = sorted(
        (q for d in drafts for q in d.quotes),
        key=lambda q: place.get((q.article_id, q.text), len(place)),
    )
    draft = _draft_of(
        [Numbered(article_id=q.article_id, text=q.text) for q in quotes],
        MOST_EXTRACTED * len(answers),
    )
    read = [d.decline_probability for d in drafts if d.decline_probability is not None]
    if draft is not None:
        draft = draft.model_copy(update={"decline_probability": max(read) if read else None})
    together.value = draft
    return together


def generate_answer(
    model: ChatModel,
    prompt: Prompt,
    *,
    question: str,
    conversation: str,
    passages: Sequence[Passage],
    on_text: TextSink | None = None,
    on_retry: Callable[[], None] | None = None,
    each: Sequence[str] = (),
    latest: Latest | None = None,
) -> GeneratedAnswer:
    """One call, and one retry when the output is malformed. Service failures raise LLMError.
    ``on_text`` receives the reply as it is generated (the retry's too); an extractive reply is
    only sentence numbers, so it does not stream (its sentences are sent once checked). With
    ``each`` (the questions of a message that asks several, pipeline/decompose.py), an
    extractive prompt is asked once for each, over the same evidence."""
    told = latest or Latest(message=question)
    values = {"conversation": conversation, "question": question, "earlier": told.earlier}
    if prompt.extractive:
        sentences, shown = numbered(passages, prompt.passage_heading)
        # One question of several replaces the whole message.
        parts = [{"question": q, "message": q} for q in each] if len(each) > 1 else []
        answers = [
            _extract(model, prompt, {**values, "passages": shown, **part}, sentences)
            for part in parts or [{"message": told.message}]
        ]
        return answers[0] if len(answers) == 1 else _together(answers, sentences)
    allowed = [p.article_id for p in passages]
    return ask(
        model,
        prompt,
        {**values, "passages": format_passages(passages)},
        lambda text: parse_draft(text, allowed, json=prompt.json_mode),
        on_text=on_text,
        on_retry=on_retry,
    )


def _extract(
    model: ChatModel, prompt: Prompt, values: dict[str, str], sentences: Sequence[Numbered]
) -> GeneratedAnswer:
    asked = ask(model, prompt, values, lambda text: parse_extract(text, sentences))
    return with_decline_probability(asked, model, prompt, values)


def with_decline_probability(
    asked: GeneratedAnswer, model: ChatModel, prompt: Prompt, values: dict[str, str]
) -> GeneratedAnswer:
    """The answer with the model's probability of having declined instead, for a prompt whose
    reply starts with its choice (``decline_option``): the same prompt read once more (from the
    model's prefix cache), its first token's probabilities over the decline and the digits;
    unread (None) when the model gives no probabilities."""
    draft = asked.value
    option = prompt.decline_option
    if option is None or draft is None or not draft.answerable:
        return asked
    try:
        options = model.option_probabilities(prompt.render(**values), (option, *DIGITS))
    except LLMError:
        # An endpoint without log-probabilities: nothing read (a hand-over that needs it
        # escalates, pipeline/stages.py).
        return asked
    asked.value = draft.model_copy(update={"decline_probability": options[option]})
    return asked
