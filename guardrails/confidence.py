"""How likely an extractive answer is to be one a customer should see, from three signals.

The model's probability of declining (its ``none``) tells questions the knowledge base answers
from those it does not, but a small model also picks, with little doubt, sentences about
something near the question: asked for a tax form, it offers the referral rewards per calendar
year. Such an answer is the passages' own words, so the grounding check passes it. Two more
signals, read in milliseconds, see it: how similar the answer's sentences are to the question
(their mean cosine on the embedder), and how similar the best passage the model was given is.
A logistic model of the three, fitted on a knowledge base's own dev questions
(``python -m evals.decline --fit``, which writes ``guardrails/confidence.yaml``), gives the
answer's confidence; below its threshold a person answers (``low_confidence``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from core import yaml_loader
from core.embeddings import Embedder

DEFAULT_PATH = Path(__file__).with_name("confidence.yaml")
# The probabilities the log-odds are taken of are kept this far from 0 and 1.
EPSILON = 1e-6


class AnswerSignals(BaseModel):
    """What the confidence is read from, for one answer."""

    # The model's probability of having replied that no sentence answers.
    decline_probability: float = Field(ge=0.0, le=1.0)
    # The mean cosine similarity of the answer's sentences to the question.
    question_similarity: float
    # The similarity of the best passage the answer was chosen from to the question.
    retrieval_best: float

    def features(self) -> tuple[float, float, float]:
        p = min(max(self.decline_probability, EPSILON), 1.0 - EPSILON)
        return math.log(p / (1.0 - p)), self.question_similarity, self.retrieval_best


class ConfidenceModel(BaseModel):
    """A logistic model over :class:`AnswerSignals` (weights on the raw signals) and the
    threshold below which an answer is handed over, with what they were fitted on."""

    decline_log_odds: float
    question_similarity: float
    retrieval_best: float
    bias: float
    threshold: float = Field(ge=0.0, le=1.0)
    fitted_on: str = ""

    def confidence(self, signals: AnswerSignals) -> float:
        weights = (self.decline_log_odds, self.question_similarity, self.retrieval_best)
        score = self.bias + sum(w * x for w, x in zip(weights, signals.features(), strict=True))
        return 1.0 / (1.0 + math.exp(-score))

    def shows(self, signals: AnswerSignals) -> bool:
        return self.confidence(signals) >= self.threshold


def question_similarity(question: str, sentences: Sequence[str], embedder: Embedder) -> float:
    """The mean cosine similarity of ``sentences`` to ``question`` (0 when there are none)."""
    if not sentences:
        return 0.0
    vectors = embedder.embed_batch([question, *sentences])
    return float((vectors[1:] @ vectors[0]).mean())


def load_confidence_model(path: Path | None = None) -> ConfidenceModel:
    return yaml_loader.load_model(path or DEFAULT_PATH, ConfidenceModel, "confidence model")


def save_confidence_model(model: ConfidenceModel, path: Path = DEFAULT_PATH) -> None:
    header = "Written by `python -m evals.decline --fit`; the weights and what they were fitted on."
    yaml_loader.save_model(model, path, header)
