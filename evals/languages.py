"""What happens to messages in other languages: the translated golden questions of
``evals/data/non_english.jsonl`` (machine-translated by the engineer who wrote them) through the
message path on the sample profile, with a fake model that answers from the first passage and
the hashing embedder (no model is loaded). Then the detector's cost: its models' load time and
memory, and the time per message.

    python -m evals.languages

Prints a table (message, written in, detected, outcome: handed over in which language, or
answered), then the figures as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from assistant.pipeline.assistant import Assistant
from assistant.pipeline.classify import IssueClassifier, load_taxonomy
from assistant.pipeline.reply import Reply
from assistant.pipeline.settings import PipelineSettings
from core.conversation import Turn
from core.embeddings import HashingEmbedder
from core.languages import BUILTIN_HANDOFF
from core.llm.base import ChatMessage
from core.llm.fake import FakeChatModel
from core.profile import Profile, sample_profile
from evals.report import table
from guardrails.calibration import Calibration
from guardrails.language import LanguageDetector
from knowledge_base.articles import load_articles
from knowledge_base.ingest import ingest
from knowledge_base.search import HybridSearcher
from knowledge_base.store import InMemoryStore

DATA = Path(__file__).resolve().parent / "data" / "non_english.jsonl"
# Tier 1 for the hashing embedder (similarity alone), an even-odds judge: the fake answer is a
# passage's own sentence, so an answer that reaches the check passes it.
FAKE_CALIBRATION = Calibration(similarity=0.3, coverage=0.0, coverage_floor=0.0, judge=0.5)
_PASSAGE = re.compile(r"^\[(?P<id>[\w.-]+)\] .*\n(?P<text>[^\n]+)", re.MULTILINE)
REPEATS = 50


class Row(BaseModel):
    id: str
    language: str
    source_id: str | None = None
    text: str


class Outcome(BaseModel):
    id: str
    text: str
    written_in: str
    detected: str
    answered: bool
    handed_over_in: str | None
    reasons: list[str]


def load_rows(path: Path = DATA) -> list[Row]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Row.model_validate_json(line) for line in lines if line.strip()]


def _respond(messages: Sequence[ChatMessage]) -> str:
    """The first sentence of the first passage, cited (a judge: 0.9)."""
    if '"answerable"' not in messages[0].content:
        return "0.9"
    first = _PASSAGE.search(messages[-1].content)
    if first is None:
        return json.dumps({"reasoning": "", "answerable": False, "answer": "", "citations": []})
    sentence = first["text"].split(". ")[0].rstrip(".") + "."
    answer = {"reasoning": "", "answerable": True, "answer": sentence, "citations": [first["id"]]}
    return json.dumps(answer)


def fake_assistant(profile: Profile, detector: LanguageDetector) -> Assistant:
    embedder, store = HashingEmbedder(), InMemoryStore()
    ingest(load_articles(profile.knowledge_base), store=store, embedder=embedder, progress=False)
    classifier = IssueClassifier.from_taxonomy(
        load_taxonomy(profile.taxonomy), embedder, threshold=0.0
    )
    return Assistant(
        model=FakeChatModel(_respond),
        embedder=embedder,
        searcher=HybridSearcher(store, embedder),
        classifier=classifier,
        settings=PipelineSettings(min_retrieval_score=0.1, guardrails_calibration=FAKE_CALIBRATION),
        profile=profile,
        detector=detector,
    )


def handed_over_in(reply: Reply, profile: Profile) -> str | None:
    """Which language's hand-off the customer read, and whose (the profile's or built-in)."""
    if reply.answered:
        return None
    for language, messages in profile.messages.items():
        if reply.text.endswith(messages.handoff):
            return f"{language} (profile)"
    for language, text in BUILTIN_HANDOFF.items():
        if reply.text.endswith(text):
            return f"{language} (built-in)"
    return "?"


def outcome(row: Row, assistant: Assistant) -> Outcome:
    reply = assistant.respond([Turn(role="customer", text=row.text)])
    found = assistant.detector.detect(row.text)
    detected = "-" if found is None else f"{found.language} {found.confidence:.2f}"
    if found is not None and not found.sure(assistant.settings.language_confidence):
        detected += " (unsure)"
    return Outcome(
        id=row.id,
        text=row.text,
        written_in=row.language,
        detected=detected,
        answered=reply.answered,
        handed_over_in=handed_over_in(reply, assistant.profile),
        reasons=[str(r) for r in reply.verdict.reasons],
    )


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def detector_cost(rows: Sequence[Row]) -> tuple[LanguageDetector, dict[str, float]]:
    """A fresh detector, its first detection (which loads its models), and its speed after."""
    before = _rss_mb()
    start = time.perf_counter()
    detector = LanguageDetector()
    detector.detect(rows[0].text)
    load_s = time.perf_counter() - start
    loaded = _rss_mb() - before
    texts = [row.text for row in rows] * REPEATS
    start = time.perf_counter()
    for text in texts:
        detector.detect(text)
    per_message_ms = (time.perf_counter() - start) / len(texts) * 1000
    figures = {
        "detector_load_s": round(load_s, 2),
        "detector_mb": round(loaded, 1),
        "detect_ms_per_message": round(per_message_ms, 3),
    }
    return detector, figures


def run(path: Path = DATA) -> tuple[list[Outcome], dict[str, object]]:
    rows = load_rows(path)
    detector, cost = detector_cost(rows)
    assistant = fake_assistant(sample_profile(), detector)
    outcomes = [outcome(row, assistant) for row in rows]
    translated = [o for o, row in zip(outcomes, rows, strict=True) if row.source_id]
    figures: dict[str, object] = {
        "messages": len(outcomes),
        "translated": len(translated),
        "translated_handed_over_in_their_language": sum(
            1
            for o in translated
            if o.handed_over_in is not None and o.handed_over_in.startswith(o.written_in)
        ),
        "translated_answered": sum(o.answered for o in translated),
        "short_handed_over_for_language": sum(
            "unsupported_language" in o.reasons for o in outcomes if o not in translated
        ),
        **cost,
    }
    return outcomes, figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="a JSONL file of messages")
    args = parser.parse_args(argv)
    outcomes, figures = run(args.data)
    rows = [
        (
            o.text if len(o.text) <= 60 else o.text[:57] + "...",
            o.written_in,
            o.detected,
            "answered" if o.answered else f"handed over in {o.handed_over_in}",
            ", ".join(o.reasons) or "-",
        )
        for o in outcomes
    ]
    header = ("message", "written in", "detected", "outcome", "reasons")
    print(table("Messages in other languages (sample profile, fake model)", rows, header))
    print()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
