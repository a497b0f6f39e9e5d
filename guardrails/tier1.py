"""Tier 1: every answer sentence against sliding windows over the passages, plus a fact check.

A sentence is supported when its best window (1 to ``window`` consecutive passage sentences, or
of the customer's own statements) scores at least ``threshold`` in cosine similarity, at least
``min_coverage`` of its content words appear in the passages or the customer's statements (see
guardrails/lexical.py), a negation in it ("not", "never", "can't") is also in that window (the
words alone cannot tell "you can" from "you cannot"), and every fact it states (numbers,
amounts, durations, dates, times, names) appears in the passages or the customer's words. A
"Yes, ..." or "No, ..." answering the customer's last question is never passed at tier 1: it
affirms or denies the question, which its own words do not show; the judge decides.
The customer's questions are not evidence: "Can I get a refund after 30 days?" must not ground
"You can get a refund after 30 days." Sentences that claim nothing
(greetings, apologies, questions back to the customer) need no similar window, but the
quantities they mention are still checked. One ``embed_batch`` call per check.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from core.embeddings import Embedder
from guardrails.decision import supported
from guardrails.facts import extract_facts, is_quantity, missing_facts
from guardrails.lexical import coverage, vocabulary
from guardrails.sentences import runs, spans, split_sentences
from guardrails.verdict import SentenceFinding, Tier1Result
from knowledge_base.articles import Passage

_COURTESY = re.compile(
    r"^(?:hi|hello|hey|good (?:morning|afternoon|evening)|dear"
    r"|thanks?(?: you)?|(?:i'm|i am|we're|we are) (?:so |very |really |truly )?sorry|sorry"
    r"|(?:i|we) (?:sincerely )?apologi[sz]e|apologies|my apologies"
    r"|i (?:completely |totally )?understand|i can imagine|i know how"
    r"|(?:i'm|i am|i'd be|i would be|glad|happy) (?:happy |glad )?to help|you're welcome|no problem"
    r"|(?:please )?let (?:me|us) know|feel free|(?:please )?don't hesitate|is there anything else"
    r"|if you have any (?:other |more |further )?questions|(?:i )?hope (?:this|that) helps"
    r"|have a (?:great|good|nice|wonderful)|take care)\b",
    re.IGNORECASE,
)
# Words that say yes or no to the customer, and nothing else.
_VERDICT_WORDS = (
    r"yes|no|yeah|yea|yep|nope|sure|absolutely|definitely|indeed|of course|correct|right"
    r"|exactly|not quite|unfortunately not|sadly not"
)
_BARE_REPLY = re.compile(
    rf"^(?:{_VERDICT_WORDS}|(?:yes,? )?(?:that's|that is|it's|it is) true|true)\s*[.!,]*$",
    re.IGNORECASE,
)
# A courtesy opener followed by one of these goes on to claim or promise something.
_CLAIM_MARKER = re.compile(
    r"\b(?:but|however|unfortunately|although|though|because|since|so|which"
    r"|i've|i have|we've|we have|i'll|i will|we'll|we will)\b"
    r"|,\s*and\s+(?:i|we|you|your|it|the)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|never|no longer|nobody|nothing|nowhere|neither|nor|cannot|without)\b|n['\u2019]t\b",
    re.IGNORECASE,
)
# A sentence opening with one of these answers the customer's yes/no question: its claim is the
# question's proposition, which the sentence's own words do not state ("Yes, we both get it.").
_VERDICT_OPENER = re.compile(rf"^\s*(?:{_VERDICT_WORDS})\s*[.!,]", re.IGNORECASE)
_LEADING_NO = re.compile(
    r"^\s*no\s*[.!,]+\s*", re.IGNORECASE
)  # "No, ..." answers; it negates nothing
Basis = Literal["passage", "conversation", "claimless"]
_MAX_COURTESY_WORDS = 16
_MAX_LEAD_IN_WORDS = 8


# The judge reads, of the passages, only each claim's best windows (see ``_judge_evidence``).
JUDGE_WINDOWS = 3
_GAP = " … "


@dataclass(frozen=True)
class _Window:
    text: str
    article_id: str | None  # None: the customer's own words
    passage: int = -1  # index of the passage it comes from (-1: the customer's words)
    span: tuple[int, int] = (0, 0)  # its sentences in that passage, [start, end)


def is_claimless(sentence: str) -> bool:
    """Whether ``sentence`` states nothing that evidence could support or contradict.

    Questions back to the customer, short lead-ins ("Here's what to do:"), and greetings,
    thanks, apologies and offers of more help that mention no quantity and go on to no claim
    ("Sorry, but refunds are not possible", "Thanks, and I've refunded you" are claims).
    """
    text = sentence.strip()
    words = len(text.split())
    if text.endswith("?") or (text.endswith(":") and words <= _MAX_LEAD_IN_WORDS):
        return True
    return (
        bool(_COURTESY.match(text))
        and words <= _MAX_COURTESY_WORDS
        and not _CLAIM_MARKER.search(text)
        and not any(is_quantity(fact) for fact in extract_facts(text))
    )


def negates(text: str) -> bool:
    """Whether ``text`` says that something is not so (a leading "No," aside)."""
    return bool(_NEGATION.search(_LEADING_NO.sub("", text)))


def attach_bare_replies(sentences: Sequence[str]) -> list[str]:
    """Join a bare "Yes.", "No." or "Sure!" to the sentence after it (before, when it is last).

    On its own it matches no evidence; with its neighbour it is checked as the claim it makes.
    """
    merged: list[str] = []
    carry = ""
    for sentence in sentences:
        if _BARE_REPLY.match(sentence):
            carry = f"{carry} {sentence}".strip()
        else:
            merged.append(f"{carry} {sentence}".strip())
            carry = ""
    if carry and merged:
        merged[-1] = f"{merged[-1]} {carry}"
    elif carry:
        merged.append(carry)
    return merged


def customer_statements(conversation: Sequence[str]) -> list[list[str]]:
    """The sentences of each customer turn that are not questions."""
    return [[s for s in split_sentences(turn) if not s.endswith("?")] for turn in conversation]


def evidence_text(passage: Passage) -> str:
    """What a passage offers the fact check: its text under its article title and section."""
    return f"{passage.chunk.title}\n{passage.chunk.section}\n{passage.text}"


def _evidence_windows(
    passages: Sequence[Passage], sentences: list[list[str]], statements: list[list[str]], size: int
) -> tuple[list[_Window], int]:
    """Passage windows first, then windows over the customer's turns; and how many are passages.

    ``sentences`` are those of each passage."""
    seen: set[str] = set()
    passage_windows: list[_Window] = []
    for index, ours in enumerate(sentences):
        for start, end in spans(len(ours), size):
            text = " ".join(ours[start:end])
            if text not in seen:
                seen.add(text)
                passage_windows.append(
                    _Window(text, passages[index].article_id, index, (start, end))
                )
    turn_windows = [_Window(text, None) for turn in statements for text in runs(turn, size)]
    return [*passage_windows, *turn_windows], len(passage_windows)


def _best(
    row: npt.NDArray[np.float32], evidence: list[_Window], n_passage: int, threshold: float
) -> tuple[_Window | None, float]:
    """The passage window nearest the sentence, unless the customer's words support it better."""
    passage_at = int(np.argmax(row[:n_passage])) if n_passage else None
    turn_at = n_passage + int(np.argmax(row[n_passage:])) if len(evidence) > n_passage else None
    chosen = passage_at
    if turn_at is not None and (
        passage_at is None or (row[turn_at] >= threshold and row[turn_at] > row[passage_at])
    ):
        chosen = turn_at
    if chosen is None:
        return None, 0.0
    return evidence[chosen], float(row[chosen])


def _finding(
    sentence: str,
    answers_question: bool,
    best: _Window | None,
    score: float,
    fact_sources: list[str],
    words: frozenset[str],
    threshold: float,
    min_coverage: float,
) -> SentenceFinding:
    claimless = is_claimless(sentence)
    covered = coverage(sentence, words)
    unmatched_negation = (
        not claimless and negates(sentence) and not negates(best.text if best else "")
    )
    missing = missing_facts(sentence, fact_sources)
    basis: Basis = "passage"
    if claimless:
        basis = "claimless"
        missing = [fact for fact in missing if is_quantity(fact)]  # "Hi Sam!" names no fact
    elif best is not None and best.article_id is None:
        basis = "conversation"
    finding = SentenceFinding(
        sentence=sentence,
        score=score,
        evidence=best.text if best else "",
        evidence_article_id=best.article_id if best else None,
        coverage=covered,
        unmatched_negation=unmatched_negation,
        answers_question=answers_question,
        missing_facts=missing,
        basis=basis,
    )
    finding.supported = supported(finding, threshold, min_coverage)
    return finding


def _judge_evidence(
    passages: Sequence[Passage], sentences: list[list[str]], chosen: Sequence[_Window]
) -> list[Passage]:
    """The passages cut down to the sentences of the ``chosen`` windows, in passage order, with
    an ellipsis where sentences were left out; passages with none chosen are dropped."""
    keep: dict[int, set[int]] = {}
    for window in chosen:
        keep.setdefault(window.passage, set()).update(range(*window.span))
    focused = []
    for index, passage in enumerate(passages):
        marked = sorted(keep.get(index, ()))
        if not marked:
            continue
        text = sentences[index][marked[0]]
        for previous, current in itertools.pairwise(marked):
            text += (" " if current == previous + 1 else _GAP) + sentences[index][current]
        chunk = passage.chunk.model_copy(update={"text": text})
        focused.append(passage.model_copy(update={"chunk": chunk}))
    return focused


def check_support(
    answer: str,
    passages: Sequence[Passage],
    *,
    embedder: Embedder,
    threshold: float,
    min_coverage: float = 0.0,
    window: int = 2,
    conversation: Sequence[str] = (),
) -> Tier1Result:
    """One finding per answer sentence; ``conversation`` holds the customer's earlier turns.

    The result also holds what the judge should read of the passages: for each claim (a
    sentence that is not claimless), its ``JUDGE_WINDOWS`` most similar passage windows. A
    small judge handed whole articles loses the sentence that matters among the others."""
    sentences = attach_bare_replies(split_sentences(answer))
    if not sentences:
        return Tier1Result(findings=[])
    statements = customer_statements(conversation)
    passage_sentences = [split_sentences(p.text) for p in passages]
    evidence, n_passage = _evidence_windows(passages, passage_sentences, statements, window)
    vectors = embedder.embed_batch([*sentences, *(w.text for w in evidence)])
    scores = vectors[: len(sentences)] @ vectors[len(sentences) :].T
    fact_sources = [
        *(evidence_text(p) for p in passages),
        *(" ".join(turn) for turn in statements),
    ]
    words = vocabulary(fact_sources)
    asked = bool(conversation) and "?" in conversation[-1]
    findings = [
        _finding(
            sentence,
            asked and bool(_VERDICT_OPENER.match(sentence)),
            *_best(row, evidence, n_passage, threshold),
            fact_sources,
            words,
            threshold,
            min_coverage,
        )
        for sentence, row in zip(sentences, scores, strict=True)
    ]
    chosen = [
        evidence[int(at)]
        for finding, row in zip(findings, scores, strict=True)
        if finding.basis != "claimless"
        for at in np.argsort(-row[:n_passage], kind="stable")[:JUDGE_WINDOWS]
    ]
    return Tier1Result(
        findings=findings,
        judge_passages=_judge_evidence(passages, passage_sentences, chosen),
    )
