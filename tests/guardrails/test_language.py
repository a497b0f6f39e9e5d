from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.languages import Language
from guardrails.language import (
    MIN_CONFIDENCE,
    default_detector,
    language_of,
    unverifiable,
)
from guardrails.verdict import ReasonCode

ROOT = Path(__file__).resolve().parents[2]
EMANUAL = ROOT.parent / "shared" / "data" / "emanual" / "questions.jsonl"


def translated() -> list[tuple[str, str]]:
    path = ROOT / "evals" / "data" / "non_english.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [(row["text"], row["language"]) for row in rows if row["source_id"]]


@pytest.mark.parametrize(("text", "language"), translated())
def test_translated_golden_questions_are_detected_surely(text: str, language: str) -> None:
    found = language_of([text], default_detector())
    assert found is not None and found.language == language


@pytest.mark.parametrize("text", ["ok", "hi", "merci", "hola", "Danke!", "thanks", "refund?"])
def test_a_word_or_two_is_never_handed_over_for_its_language(text: str) -> None:
    found = language_of([text], default_detector())
    assert found is None or found.language == Language.EN  # "thanks": English, 0.69
    assert unverifiable(found, [Language.EN]) is None


def test_no_golden_question_is_taken_for_another_language() -> None:
    questions = [
        json.loads(line)
        for line in (ROOT / "knowledge_base" / "sample" / "questions.jsonl")
        .read_text()
        .splitlines()
    ]
    for q in questions:
        texts = [q["question"]] if q.get("question") else [t["text"] for t in q["conversation"]]
        found = language_of(texts[::-1], default_detector())
        assert found is None or found.language == Language.EN, (q["id"], found)


@pytest.mark.skipif(not EMANUAL.is_file(), reason="../shared/data/emanual is not here")
def test_no_emanual_question_is_taken_for_another_language() -> None:
    detector = default_detector()
    others = []
    for line in EMANUAL.read_text(encoding="utf-8").splitlines():
        question = json.loads(line)["question"]
        found = detector.detect(question)
        if found is not None and found.language != Language.EN:
            others.append(found.confidence)
    assert max(others, default=0.0) < MIN_CONFIDENCE


def test_an_earlier_turn_decides_when_the_latest_is_too_short() -> None:
    found = language_of(["ok", "Wie lange ist der Anmeldecode gültig?"], default_detector())
    assert found is not None and found.language == Language.DE


def test_only_english_can_be_checked_even_where_the_profile_serves_another() -> None:
    german = language_of(["Wie lange ist der Anmeldecode gültig?"], default_detector())
    verdict = unverifiable(german, [Language.EN])
    assert verdict is not None and verdict.reasons == [ReasonCode.UNSUPPORTED_LANGUAGE]
    assert "the profile serves en" in verdict.detail
    served = unverifiable(german, [Language.EN, Language.DE])
    assert served is not None and "the check reads only en" in served.detail
    english = language_of(["How long is the login code valid?"], default_detector())
    assert unverifiable(english, [Language.EN]) is None
    assert unverifiable(None, [Language.EN]) is None
