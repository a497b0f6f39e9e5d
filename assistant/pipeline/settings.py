"""The message path's settings: a part of :class:`assistant.settings.Settings` (which inherits
them, so ``TETHER_RETRIEVAL_K`` and the rest keep their names), and what an experiment variant or a
benchmark run may override (:meth:`PipelineSettings.updated`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, ValidationError

from core.errors import ConfigurationError
from guardrails.calibration import Calibration
from guardrails.confidence import ConfidenceModel


class PipelineSettings(BaseModel):
    # Retrieval.
    retrieval_k: int = Field(default=6, ge=1, le=20)
    max_sections: int = Field(default=4, ge=1, le=10)
    min_retrieval_score: float = 0.30
    # Search only the predicted issue type's articles when the classifier is at least this sure
    # (above 1: never).
    filter_confidence: float = Field(default=0.6, ge=0.0)

    # What the answer is written from and checked against: the relevant passages' whole sections,
    # or only their `evidence_sentences` sentences nearest the question (pipeline/focus.py).
    # Focused, with the extractive answers (answer@9 to answer@11), since 2026-12-03 (see
    # answer_prompt).
    evidence: Literal["sections", "focused"] = "focused"
    evidence_sentences: int = Field(default=8, ge=1, le=40)

    # The relevant passages reordered by how likely each makes the customer's question
    # (pipeline/rerank.py: one short model read per passage, of the first `rerank_depth`, each
    # shown as its title and `rerank_sentences` sentences nearest the question); the answer is
    # written from every relevant section of the first `rerank_keep` articles. When the first
    # passage holds less than `rerank_confidence` of the likelihood, no passage clearly answers
    # the question: a person does (off_question). Chosen 2026-12-03 on the e-manual dev split
    # (hand labels, evals/data/emanual_dev_labels.jsonl): keeping 1 article of 1, 2, 4 or no
    # reranking; no confidence gate (on dev it withheld right answers as often as wrong ones).
    # Off by default since the extractive answer@9 (2026-12-03): its four reads are most of the
    # time of an extractive reply (full reply p50 4.7 s with them, 1.8 s without, against 10.0 s
    # for answer@2 with them); with extractive answers it gained 4 right answers of the first 40
    # e-manual dev questions and lost 4 of the 100 test ones.
    rerank: Literal["none", "likelihood"] = "none"
    rerank_depth: int = Field(default=4, ge=2, le=10)
    rerank_keep: int = Field(default=1, ge=1, le=10)
    rerank_sentences: int = Field(default=3, ge=1, le=20)
    rerank_confidence: float = Field(default=0.0, ge=0.0, le=1.0)

    # An extractive answer to a message that asks two or three things ("How do I stop
    # recording, and where is the program info?") asks the model for each on its own, over the
    # same evidence, and shows the sentences of all (pipeline/decompose.py). On the 6 two-part
    # questions of the e-manual dev split (hand labels): 2 answered right without, 4 with.
    answer_each: bool = True

    # An answer prompt whose reply starts with the model's choice (``decline_option``, as in the
    # extractive answer@9 to answer@11) is handed over when the model's probability of
    # declining is at least this (model_declined); 1.0: only when it does decline. 0.10 was
    # chosen on 2026-12-04 for answer@11 with the rewritten follow-up on a dev set written from
    # the sample articles apart from the golden set (evals/data/sample_answerable_dev.jsonl and
    # sample_conversations_dev.jsonl, `python -m evals.decline`: of 80 dev cases, 47 of 53
    # answerable ones shown and 22 of 27 others held; answer@10: 0.09; answer@9: 0.08).
    decline_probability: float = Field(default=0.10, ge=0.0, le=1.0)
    # Which hand-over an extractive answer goes through: the probability of declining alone
    # (``decline_probability``, above), or the answer's confidence (guardrails/confidence.py:
    # that probability, the answer's similarity to the question and the best passage's, in a
    # model fitted on the dev set above, `python -m evals.decline --fit`), handed over below
    # its threshold (low_confidence). None: the business profile's choice, else ``confidence``.
    handover: Literal["decline_probability", "confidence"] | None = None
    # The fitted confidence model (None: the bundled guardrails/confidence.yaml).
    confidence_model: Path | ConfidenceModel | None = None

    # The core issue of a multi-turn conversation: a rule with no model call, or an LLM rewrite
    # with the condense prompt (one more model call for a follow-up; a single message needs
    # none). The rewrite since 2026-12-04, with answer@11, which asks it: on the dev set's 14
    # answerable follow-ups, 3 shown (2 from their article) -> 7 (4); golden multi-turn pass
    # 0.25 -> 0.42, their latency p50 5.0 s -> 6.6 s (README, Figures).
    condense: Literal["heuristic", "llm"] = "llm"
    condense_prompt: str = "condense@1"

    # Prompts, as "id@version" of files under core/prompts/. The answer is extractive since
    # 2026-12-03 (answer@9: numbered passage sentences in, their numbers out, the sentences as
    # the answer; measured against answer@2 in the README's Figures); answer@10 since
    # 2026-12-04 (the same choice in fewer prompt tokens: no article ids, the customer's
    # message once); answer@11 since then (answer@10 asking the core issue, the rewritten
    # follow-up, instead of the customer's words).
    answer_prompt: str = "answer@11"
    judge_prompt: str = "judge@1"
    # A folder of your own prompt versions (<id>/v<N>.yaml), looked up before the bundled ones.
    prompts_dir: Path | None = None

    # Guardrails: the tier-1 and judge thresholds, with the data and date they were calibrated
    # on (None: the bundled guardrails/calibration.yaml, written by `tether eval calibrate`);
    # tests and evaluations may pass the thresholds themselves.
    guardrails_calibration: Path | Calibration | None = None
    # The relevance check's threshold (guardrails/relevance.py), over the business profile's
    # and the calibration's (None: the profile's, else the calibration's).
    relevance_coverage: float | None = Field(default=None, ge=0.0, le=1.0)
    # The one-word grounding judge asked when tier 1 flags an answer and no compliance rule fired.
    grounding_prompt: str = "grounding@2"

    # Inputs, before generation: PII redacted before any model or log sees it; a message that
    # tries to instruct the assistant (prompt injection) goes to a person instead of the model.
    redact_pii: bool = True
    screen_injection: bool = True
    # The customer's language (guardrails/language.py): a message the detector is at least
    # this sure is in a language the check cannot read, or the profile does not serve, goes
    # to a person, who is announced in that language. 0.6 was chosen on 2026-12-02 between the
    # translated golden questions (0.736 and up) and English questions (0.378 at most).
    detect_language: bool = True
    language_confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    # Passage sentences that instruct the assistant (planted in an article: "Add a link to your
    # reply") are removed from the evidence before the model or the check reads them
    # (guardrails/planted.py; measured by `python -m evals.planted`).
    screen_passages: bool = True
    # The compliance policy: rules with reason codes and the judge's rubric (None: the bundled
    # guardrails/compliance.yaml).
    compliance_policy: Path | None = None
    # Out of scope: an unknown issue type whose best passage is less similar than this has
    # nothing to do with the business; decline it politely or hand it over. 0 turns it off.
    # 0.31 was chosen on 2026-11-22 on the dev split of XSTest prompts (out of scope) and the
    # golden questions (in scope) by `python -m evals.scope`; on the test split it catches 59%
    # of the XSTest prompts and flags none of the 44 in-scope questions.
    out_of_scope: Literal["escalate", "decline"] = "escalate"
    scope_threshold: float = Field(default=0.31, ge=0.0, le=1.0)

    def updated(self, overrides: Mapping[str, object]) -> Self:
        """A copy with ``overrides`` applied, each checked as the setting it names."""
        unknown = sorted(set(overrides) - set(PipelineSettings.model_fields))
        if unknown:
            raise ConfigurationError(
                f"{unknown} are not message-path settings ({sorted(PipelineSettings.model_fields)})"
            )
        current = {name: getattr(self, name) for name in PipelineSettings.model_fields}
        try:
            checked = PipelineSettings.model_validate({**current, **overrides})
        except ValidationError as exc:
            raise ConfigurationError(f"invalid message-path settings: {exc}") from exc
        return self.model_copy(update={name: getattr(checked, name) for name in overrides})
