"""The message path: condense, classify, retrieve, answer with chain-of-thought, check, decide.

Pure orchestration over the seams it is given (model, embedder, searcher, classifier); it never
raises for a failed answer or a failing service: every outcome is a :class:`Reply` with a verdict.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.answer import generate_answer
from assistant.classify import UNKNOWN, Classification, IssueClassifier
from assistant.conversation import Turn, core_issue, core_issue_by_llm, transcript
from assistant.embeddings import Embedder
from assistant.errors import LLMError, StoreError
from assistant.llm.base import ChatModel
from assistant.prompts import resolve_prompt
from assistant.settings import Settings
from guardrails.calibration import Calibration, load_calibration
from guardrails.cascade import check_answer
from guardrails.compliance import load_policy
from guardrails.injection import detect_injection
from guardrails.pii import redact
from guardrails.verdict import ReasonCode, Verdict
from knowledge_base.articles import Passage
from knowledge_base.search import HybridSearcher

HANDOFF_MESSAGE = (
    "Thanks for your patience. I want to make sure you get the right answer, so I've passed your "
    "conversation to a member of our support team. A person will follow up here shortly."
)


DECLINE_MESSAGE = (
    "Sorry, I can only help with questions about Hoppa: your orders, deliveries, payments and "
    "your account. If your question is about one of those, could you tell me a bit more?"
)


class Citation(BaseModel):
    article_id: str
    title: str


class Reply(BaseModel):
    """The outcome of one customer message. Only ``text`` and ``citations`` reach the customer."""

    text: str
    answered: bool
    citations: list[Citation] = Field(default_factory=list)
    core_issue: str
    classification: Classification
    verdict: Verdict
    withheld_answer: str | None = None
    reasoning: str = ""
    passages: list[Passage] = Field(default_factory=list)
    latency_ms: dict[str, float] = Field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # True when the message was out of scope and politely declined (no escalation).
    declined: bool = False
    # Kinds of personal data redacted from the conversation before any model saw it.
    pii_kinds: list[str] = Field(default_factory=list)


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


@dataclass
class PipelineConfig:
    """The settings the message path reads; defaults are :class:`Settings`' own."""

    retrieval_k: int = _default("retrieval_k")
    max_sections: int = _default("max_sections")
    min_retrieval_score: float = _default("min_retrieval_score")
    filter_confidence: float = _default("filter_confidence")
    condense: Literal["heuristic", "llm"] = _default("condense")
    condense_prompt: str = _default("condense_prompt")
    answer_prompt: str = _default("answer_prompt")
    judge_prompt: str = _default("judge_prompt")
    prompts_dir: Path | None = None
    grounding_prompt: str = _default("grounding_prompt")
    # A calibration file, or the thresholds themselves (None: the bundled file).
    guardrails_calibration: Path | Calibration | None = None
    redact_pii: bool = _default("redact_pii")
    screen_injection: bool = _default("screen_injection")
    compliance_policy: Path | None = None
    out_of_scope: Literal["escalate", "decline"] = _default("out_of_scope")
    scope_threshold: float = _default("scope_threshold")


@dataclass
class _Timer:
    laps: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.laps[name] = round((time.perf_counter() - start) * 1000, 1)


def screen_pii(turns: Sequence[Turn]) -> tuple[list[Turn], list[str]]:
    """The turns with personal data replaced by placeholders, and the kinds that were found."""
    kinds: list[str] = []
    screened = []
    for turn in turns:
        redaction = redact(turn.text)
        kinds += redaction.kinds()
        screened.append(Turn(role=turn.role, text=redaction.text))
    return screened, list(dict.fromkeys(kinds))


class Assistant:
    def __init__(
        self,
        *,
        model: ChatModel,
        embedder: Embedder,
        searcher: HybridSearcher,
        classifier: IssueClassifier,
        config: PipelineConfig | None = None,
        judge_model: ChatModel | None = None,
    ) -> None:
        self.model = model
        self.judge_model = judge_model or model
        self.embedder = embedder
        self.searcher = searcher
        self.classifier = classifier
        self.config = config or PipelineConfig()
        # Resolved once: a bad prompt reference fails at start, not on a customer's message.
        extra = self.config.prompts_dir
        self.answer_prompt = resolve_prompt(self.config.answer_prompt, extra)
        self.judge_prompt = resolve_prompt(self.config.judge_prompt, extra)
        self.grounding_prompt = resolve_prompt(self.config.grounding_prompt, extra)
        calibration = self.config.guardrails_calibration
        self.calibration = (
            calibration if isinstance(calibration, Calibration) else load_calibration(calibration)
        )
        self.condense_prompt = resolve_prompt(self.config.condense_prompt, extra)
        self.policy = load_policy(self.config.compliance_policy)

    def respond(self, turns: Sequence[Turn]) -> Reply:
        timer = _Timer()
        with timer.stage("total"):
            reply = self._respond(turns, timer)
        reply.latency_ms = timer.laps
        return reply

    def _core_issue(self, turns: Sequence[Turn]) -> str:
        """The LLM rewrite when configured; the rule when not, or when the model fails."""
        if self.config.condense == "llm":
            try:
                return core_issue_by_llm(turns, self.model, self.condense_prompt)
            except LLMError:
                pass
        return core_issue(turns)

    def _retrieve(self, query: str, classification: Classification) -> list[Passage]:
        """The best chunks, widened to their whole sections (at most ``max_sections``)."""
        return self.searcher.widen(self._search(query, classification))[: self.config.max_sections]

    def _search(self, query: str, classification: Classification) -> list[Passage]:
        cfg = self.config
        if classification.known and classification.confidence >= cfg.filter_confidence:
            passages = self.searcher.search(
                query, cfg.retrieval_k, issue_type=classification.issue_type
            )
            if passages and max(p.dense_score for p in passages) >= cfg.min_retrieval_score:
                return passages
        return self.searcher.search(query, cfg.retrieval_k)

    def _respond(self, turns: Sequence[Turn], timer: _Timer) -> Reply:
        cfg = self.config
        with timer.stage("screen"):
            turns, pii_kinds = screen_pii(turns) if cfg.redact_pii else (list(turns), [])
            latest = next((t.text for t in reversed(turns) if t.role == "customer"), "")
            injection = detect_injection(latest) if cfg.screen_injection else None
        if injection is not None and injection.flagged:
            return Reply(
                text=HANDOFF_MESSAGE,
                answered=False,
                core_issue=latest,
                classification=Classification(
                    issue_type=UNKNOWN, confidence=0.0, best_guess=UNKNOWN
                ),
                verdict=Verdict.escalate(
                    ReasonCode.PROMPT_INJECTION,
                    detail=f"injection score {injection.score} ({', '.join(injection.signals)})",
                ),
                pii_kinds=pii_kinds,
            )
        with timer.stage("condense"):
            query = self._core_issue(turns)
        with timer.stage("classify"):
            classification = self.classifier.classify(query)

        def escalate(verdict: Verdict, **extra: object) -> Reply:
            return Reply(
                text=HANDOFF_MESSAGE,
                answered=False,
                core_issue=query,
                classification=classification,
                verdict=verdict,
                pii_kinds=pii_kinds,
                **extra,
            )

        try:
            with timer.stage("retrieve"):
                passages = self._retrieve(query, classification)
        except StoreError as exc:
            return escalate(Verdict.escalate(ReasonCode.STORE_ERROR, detail=str(exc)))

        relevant = [p for p in passages if p.dense_score >= cfg.min_retrieval_score]
        if not relevant:
            reasons = [ReasonCode.NO_RELEVANT_ARTICLES]
            if not classification.known:
                reasons.insert(0, ReasonCode.UNKNOWN_ISSUE)
            best = max((p.dense_score for p in passages), default=0.0)
            if not classification.known and best < cfg.scope_threshold:
                # Nothing to do with the business: decline politely, or hand over.
                verdict = Verdict.escalate(
                    ReasonCode.OUT_OF_SCOPE, detail=f"best passage similarity {best:.2f}"
                )
                if cfg.out_of_scope == "decline":
                    return Reply(
                        text=DECLINE_MESSAGE,
                        answered=False,
                        declined=True,
                        core_issue=query,
                        classification=classification,
                        verdict=verdict,
                        passages=passages,
                        pii_kinds=pii_kinds,
                    )
                return escalate(verdict, passages=passages)
            return escalate(
                Verdict.escalate(*reasons, detail=f"best passage similarity {best:.2f}"),
                passages=passages,
            )

        try:
            with timer.stage("generate"):
                generated = generate_answer(
                    self.model,
                    self.answer_prompt,
                    question=query,
                    conversation=transcript(turns),
                    passages=relevant,
                )
        except LLMError as exc:
            return escalate(
                Verdict.escalate(ReasonCode.LLM_ERROR, detail=str(exc)), passages=relevant
            )

        tokens = {
            "prompt_tokens": generated.prompt_tokens,
            "completion_tokens": generated.completion_tokens,
        }
        draft = generated.draft
        if draft is None:
            return escalate(
                Verdict.escalate(
                    ReasonCode.MALFORMED_OUTPUT,
                    detail=f"unparseable after {generated.attempts} attempts",
                ),
                passages=relevant,
                **tokens,
            )
        if not draft.answerable:
            return escalate(
                Verdict.escalate(ReasonCode.MODEL_DECLINED, detail="the passages do not answer it"),
                passages=relevant,
                reasoning=draft.reasoning,
                **tokens,
            )

        with timer.stage("guardrail"):
            verdict = check_answer(
                draft.answer,
                relevant,
                embedder=self.embedder,
                judge_model=self.judge_model,
                conversation_turns=[
                    ("user" if t.role == "customer" else "assistant", t.text) for t in turns
                ],
                calibration=self.calibration,
                judge_prompt=self.judge_prompt,
                grounding_prompt=self.grounding_prompt,
                policy=self.policy,
            )
        if not verdict.passed:
            return escalate(
                verdict,
                passages=relevant,
                reasoning=draft.reasoning,
                withheld_answer=draft.answer,
                **tokens,
            )
        titles = {p.article_id: p.chunk.title for p in relevant}
        return Reply(
            text=draft.answer,
            answered=True,
            citations=[Citation(article_id=a, title=titles[a]) for a in draft.citations],
            core_issue=query,
            classification=classification,
            verdict=verdict,
            reasoning=draft.reasoning,
            passages=relevant,
            pii_kinds=pii_kinds,
            **tokens,
        )
