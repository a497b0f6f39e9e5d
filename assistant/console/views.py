"""Pure view models for the console's templates: no HTTP, no database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from assistant.escalations.drafts import draft_text
from assistant.escalations.models import EvidencePassage
from guardrails.verdict import ReasonCode, SentenceFinding, Verdict


@dataclass(frozen=True)
class Segment:
    """A stretch of the withheld answer; ``finding`` is the index of the flagged sentence in it."""

    text: str
    finding: int | None = None


def answer_segments(answer: str, flagged: Sequence[SentenceFinding]) -> list[Segment]:
    """Cut the withheld answer so each flagged sentence can be highlighted where it stands.

    A flagged sentence is looked up verbatim first, then ignoring case; one that cannot be found
    (the splitter removed citation markers, say) is still listed beside the answer, just not
    highlighted inline.
    """
    spans: list[tuple[int, int, int]] = []
    lowered = answer.lower()
    for index, finding in enumerate(flagged):
        sentence = finding.sentence.strip()
        if not sentence:
            continue
        start = answer.find(sentence)
        if start < 0:
            start = lowered.find(sentence.lower())
        if start < 0:
            continue
        end = start + len(sentence)
        if any(start < e and s < end for s, e, _ in spans):
            continue
        spans.append((start, end, index))
    segments: list[Segment] = []
    cursor = 0
    for start, end, index in sorted(spans):
        if start > cursor:
            segments.append(Segment(answer[cursor:start]))
        segments.append(Segment(answer[start:end], index))
        cursor = end
    if cursor < len(answer):
        segments.append(Segment(answer[cursor:]))
    return segments


def judge_rows(verdict: Verdict) -> list[tuple[str, bool, str]]:
    """(criterion, ok, rationale) for each judge criterion, or nothing if no judge ran.

    The grounding judge gives one row: its probability that the answer is supported.
    """
    rows = []
    supported = verdict.grounding_probability
    if supported is not None:
        ok = ReasonCode.UNGROUNDED not in verdict.reasons  # a passing verdict has no reasons
        rows.append(("grounding", ok, f"{supported:.0%} likely supported by the passages"))
    judge = verdict.judge
    if judge is not None:
        criteria = [
            ("grounding", judge.grounding),
            ("coherence", judge.coherence),
            ("compliance", judge.compliance),
        ]
        rows += [(name, criterion.ok, criterion.rationale) for name, criterion in criteria]
    return rows


def age_label(minutes: float) -> str:
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{int(minutes)} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} d"


def due_label(due: datetime, now: datetime) -> str:
    minutes = (due - now).total_seconds() / 60.0
    return f"overdue {age_label(-minutes)}" if minutes < 0 else f"in {age_label(minutes)}"


# What a small model writes for "no answer" when it still claims to have one.
_NON_ANSWERS = {"none", "null", "n/a", "na", "nil", "-"}


def drafted(withheld_answer: str | None) -> str:
    """The withheld draft worth showing (and offered in the reply editor): "" when there is
    none (missing, blank, or a bare "None" that a model or an old row wrote in its place)."""
    return draft_text(withheld_answer)


@dataclass(frozen=True)
class DraftCitation:
    article_id: str
    title: str


def draft_citations(verdict: Verdict, passages: Sequence[EvidencePassage]) -> list[DraftCitation]:
    """The articles the draft's sentences were held against (what it would have cited, had it
    passed: ``Verdict.sources``), titled from the passages it was given."""
    titles = {p.article_id: p.title for p in passages}
    return [DraftCitation(a, titles.get(a, "")) for a in verdict.sources]


def withheld_note(withheld_answer: str | None, verdict: Verdict) -> str:
    """Why there is no draft to show, for the page's "No answer was drafted (...)"; "" when
    there is one."""
    if drafted(withheld_answer):
        return ""
    if withheld_answer and withheld_answer.strip():
        return f"the model wrote only {withheld_answer.strip()!r}"
    detail = verdict.detail.strip()
    if not detail or detail.lower() in _NON_ANSWERS:
        return "stopped before generation"
    return detail
