"""The customer's language, detected offline, and whether an answer in it can be checked.

Detection is lingua's (``lingua-language-detector``), built once for the languages of
:class:`core.languages.Language` only, in its high-accuracy mode. The answer check (tier 1's
similarity and word coverage, the fact and condition rules, the judges' prompts) reads English
only, so a message in any other language cannot be verified: it goes to a person, who is told
so in the customer's language. Only English has evidence that the check works
(``CHECKED_LANGUAGES``); a profile that serves another language is still handed over until
there is.

Short messages ("ok", "merci", "Danke!") are too short to tell apart: the detector's confidence
must reach ``MIN_CONFIDENCE`` before a message counts as written in a language. Measured on
2026-12-02 (7 languages, high-accuracy mode): the 18 translated golden questions of
``evals/data/non_english.jsonl`` score 0.736 to 1.0 for their language; of the 69 golden
questions and the 603 e-manual questions (all English) none scores above 0.378 for another
language; "ok", "hola", "merci", "Danke!" score 0.51 at most. The threshold, 0.6, lies between
the two. Low-accuracy mode is faster to build but gave "How to reinstall apps?" 0.994 German,
so it is not used. Detection takes about 0.3 ms per message; the models take about 240 MB once
loaded (``python -m evals.languages`` measures both).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cache

from lingua import ConfidenceValue, IsoCode639_1, LanguageDetectorBuilder
from lingua import Language as LinguaLanguage
from pydantic import BaseModel

from core.languages import Language
from guardrails.verdict import ReasonCode, Verdict

CHECKED_LANGUAGES = frozenset({Language.EN})
MIN_CONFIDENCE = 0.6


def _lingua(language: Language) -> LinguaLanguage:
    return LinguaLanguage.from_iso_code_639_1(getattr(IsoCode639_1, language.value.upper()))


class Detection(BaseModel):
    """The most likely language of a text and how sure the detector is (0 to 1)."""

    language: Language
    confidence: float

    def sure(self, min_confidence: float = MIN_CONFIDENCE) -> bool:
        return self.confidence >= min_confidence


class LanguageDetector:
    """lingua for ``languages``; its models load on the first detection."""

    def __init__(self, languages: Sequence[Language] = tuple(Language)) -> None:
        self.languages = list(languages)
        builder = LanguageDetectorBuilder.from_languages(*(_lingua(lang) for lang in languages))
        self._detector = builder.build()
        self._ours = {_lingua(lang): lang for lang in languages}

    def detect(self, text: str) -> Detection | None:
        """The most likely language; None for a text with nothing to go on (no letters)."""
        values: list[ConfidenceValue] = self._detector.compute_language_confidence_values(text)
        if not values or values[0].value <= 0.0:
            return None
        return Detection(language=self._ours[values[0].language], confidence=values[0].value)


@cache
def default_detector() -> LanguageDetector:
    """One detector per process for every language Tether knows."""
    return LanguageDetector()


def language_of(
    texts: Sequence[str], detector: LanguageDetector, min_confidence: float = MIN_CONFIDENCE
) -> Detection | None:
    """The language of the first text the detector is sure of, trying each text and then all
    of them together (a conversation's latest turn first, then its earlier ones); None when it
    is sure of none."""
    candidates = [*texts, " ".join(texts)] if len(texts) > 1 else list(texts)
    for text in candidates:
        found = detector.detect(text)
        if found is not None and found.sure(min_confidence):
            return found
    return None


def unverifiable(detection: Detection | None, served: Collection[Language]) -> Verdict | None:
    """The hand-off for a message in a language the profile does not serve, or that the check
    cannot read; None when it may be answered (a language unsure of counts as the default)."""
    if detection is None:
        return None
    answerable = set(served) & CHECKED_LANGUAGES
    if detection.language in answerable:
        return None
    why = (
        "the check reads only " + ", ".join(sorted(CHECKED_LANGUAGES))
        if detection.language in served
        else "the profile serves " + ", ".join(str(lang) for lang in served)
    )
    return Verdict.escalate(
        ReasonCode.UNSUPPORTED_LANGUAGE,
        detail=f"written in {detection.language} ({detection.confidence:.2f}): {why}",
    )
