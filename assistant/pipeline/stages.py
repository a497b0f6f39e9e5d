"""The message path's stages: screen, condense, classify, retrieve, answer, check, decide.

Each is a function of what it needs. It returns its value, or the :class:`Verdict` that ends the
path there; :func:`decide` turns what the stages found into the :class:`Reply`. The pipeline
(:class:`assistant.pipeline.assistant.Assistant`) calls them in order; each can be called on its
own (the benchmark and, later, streaming do).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from assistant.pipeline.answer import AnswerDraft, GeneratedAnswer, Latest, generate_answer
from assistant.pipeline.classify import Classification
from assistant.pipeline.condense import core_issue, core_issue_by_llm
from assistant.pipeline.decompose import questions
from assistant.pipeline.focus import focus
from assistant.pipeline.reply import Citation, Reply, unclassified
from assistant.pipeline.rerank import Ranked
from assistant.pipeline.rerank import rerank as rerank_by_likelihood
from assistant.pipeline.settings import PipelineSettings
from assistant.pipeline.streaming import EventSink, Progress, SentenceGate
from core.conversation import Turn, transcript
from core.embeddings import Embedder
from core.errors import LLMError, StoreError
from core.languages import Language
from core.llm.base import ChatModel
from core.profile import Messages, Profile
from core.prompts import Prompt
from guardrails.calibration import Calibration
from guardrails.cascade import check_answer
from guardrails.compliance import CompliancePolicy
from guardrails.conditions import GENERIC_WORDS, ConditionWords
from guardrails.confidence import AnswerSignals, ConfidenceModel, question_similarity
from guardrails.injection import detect_injection
from guardrails.language import LanguageDetector, language_of, unverifiable
from guardrails.pii import redact
from guardrails.planted import PlantedSentence, clean_passages
from guardrails.sentences import split_sentences
from guardrails.verdict import ReasonCode, Verdict
from knowledge_base.articles import Passage
from knowledge_base.search import HybridSearcher


@dataclass
class Work:
    """What the stages have found out about one message so far."""

    turns: list[Turn]
    pii_kinds: list[str] = field(default_factory=list)
    # The customer's language, when the detector is sure of it (None: the profile's default).
    language: Language | None = None
    core_issue: str = ""
    classification: Classification = field(default_factory=unclassified)
    # The passages the reply reports: all that were retrieved, then only the relevant ones.
    passages: list[Passage] = field(default_factory=list)
    draft: AnswerDraft | None = None
    # What the hand-over read of the draft, when its prompt lets the model's doubt be read.
    signals: AnswerSignals | None = None
    confidence: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Milliseconds per stage, and in all.
    laps: dict[str, float] = field(default_factory=dict)
    # Where a streamed reply's events go (None: the reply is not streamed), and the answer
    # sentences the customer has already been sent.
    events: EventSink | None = None
    shown: list[str] = field(default_factory=list)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        if self.events is not None:
            self.events(Progress(stage=stage))
        start = time.perf_counter()
        try:
            yield
        finally:
            self.laps[stage] = round((time.perf_counter() - start) * 1000, 1)


@dataclass(frozen=True)
class Screened:
    """The screen stage's result: the redacted conversation, and the verdict that stops the
    path before any model sees it (``stop``), if any."""

    work: Work
    stop: Verdict | None
    # The kinds of personal data found in the latest customer message.
    message_pii: list[str]


@dataclass(frozen=True)
class Guards:
    """What the check stage holds an answer against, resolved once from the settings."""

    calibration: Calibration
    policy: CompliancePolicy
    judge_prompt: Prompt
    grounding_prompt: Prompt
    # The business's own words for the condition check (its name, its customers' kinds).
    words: ConditionWords = GENERIC_WORDS


@dataclass(frozen=True)
class Handover:
    """How an extractive answer is handed over, resolved once from the settings and profile:
    at the model's probability of declining (``decline_probability``; 1.0: only when it
    declines) when there is no confidence ``model``, else below the model's threshold."""

    decline_probability: float
    model: ConfidenceModel | None = None

    @property
    def reads_doubt(self) -> bool:
        return self.model is not None or self.decline_probability < 1.0


def redact_turns(turns: Sequence[Turn]) -> tuple[list[Turn], list[list[str]]]:
    """The turns with personal data replaced by placeholders, and the kinds found in each."""
    redactions = [redact(turn.text) for turn in turns]
    redacted = [Turn(role=t.role, text=r.text) for t, r in zip(turns, redactions, strict=True)]
    return redacted, [r.kinds() for r in redactions]


def screen(
    turns: Sequence[Turn],
    settings: PipelineSettings,
    *,
    profile: Profile,
    detector: LanguageDetector | None = None,
) -> Screened:
    """Personal data redacted before any model sees it; a message that tries to instruct the
    assistant, or that is written in a language the answer cannot be checked in, goes to a
    person (the verdict), never to the model."""
    redacted, kinds = list(turns), [list[str]() for _ in turns]
    if settings.redact_pii:
        redacted, kinds = redact_turns(turns)
    latest = next((i for i in reversed(range(len(turns))) if turns[i].role == "customer"), None)
    message = redacted[latest].text if latest is not None else ""
    work = Work(
        turns=redacted,
        pii_kinds=list(dict.fromkeys(k for found in kinds for k in found)),
        core_issue=message,
    )
    screened = Screened(work, None, kinds[latest] if latest is not None else [])
    detection = None
    if detector is not None and settings.detect_language:
        said = [t.text for t in reversed(redacted) if t.role == "customer"]
        detection = language_of(said, detector, settings.language_confidence)
        work.language = detection.language if detection is not None else None
    injection = detect_injection(message) if settings.screen_injection else None
    if injection is not None and injection.flagged:
        stop = Verdict.escalate(
            ReasonCode.PROMPT_INJECTION,
            detail=f"injection score {injection.score} ({', '.join(injection.signals)})",
        )
        return Screened(work, stop, screened.message_pii)
    foreign = unverifiable(detection, profile.languages)
    return screened if foreign is None else Screened(work, foreign, screened.message_pii)


def condense(
    turns: Sequence[Turn], model: ChatModel, settings: PipelineSettings, prompt: Prompt
) -> str:
    """The LLM rewrite when configured; the rule when not, or when the model fails."""
    if settings.condense == "llm":
        try:
            return core_issue_by_llm(turns, model, prompt)
        except LLMError:
            pass
    return core_issue(turns)


def retrieve(
    query: str,
    classification: Classification,
    searcher: HybridSearcher,
    settings: PipelineSettings,
) -> list[Passage] | Verdict:
    """The best chunks widened to their whole sections (at most ``max_sections``), searched
    within the issue type's articles when the classifier is sure enough and that finds any."""
    try:
        passages: list[Passage] = []
        sure = classification.confidence >= settings.filter_confidence
        if classification.known and sure:
            passages = searcher.search(
                query, settings.retrieval_k, issue_type=classification.issue_type
            )
        if not passages or max(p.dense_score for p in passages) < settings.min_retrieval_score:
            passages = searcher.search(query, settings.retrieval_k)
        return searcher.widen(passages)[: settings.max_sections]
    except StoreError as exc:
        return Verdict.escalate(ReasonCode.STORE_ERROR, detail=str(exc))


def relevant(
    passages: Sequence[Passage], classification: Classification, settings: PipelineSettings
) -> list[Passage] | Verdict:
    """The passages similar enough to answer from; when there are none, why not: an unknown
    issue far from every article is out of scope, anything else has no article to answer it."""
    found = [p for p in passages if p.dense_score >= settings.min_retrieval_score]
    if found:
        return found
    best = max((p.dense_score for p in passages), default=0.0)
    detail = f"best passage similarity {best:.2f}"
    if not classification.known and best < settings.scope_threshold:
        return Verdict.escalate(ReasonCode.OUT_OF_SCOPE, detail=detail)
    reasons = [ReasonCode.NO_RELEVANT_ARTICLES]
    if not classification.known:
        reasons.insert(0, ReasonCode.UNKNOWN_ISSUE)
    return Verdict.escalate(*reasons, detail=detail)


def ranking(
    passages: Sequence[Passage],
    question: str,
    *,
    model: ChatModel,
    embedder: Embedder,
    settings: PipelineSettings,
) -> Ranked:
    """The passages by the question's likelihood, with the scores, as the settings read them."""
    return rerank_by_likelihood(
        passages,
        question,
        model=model,
        embedder=embedder,
        depth=settings.rerank_depth,
        sentences=settings.rerank_sentences,
    )


def rerank(
    passages: list[Passage],
    question: str,
    *,
    model: ChatModel,
    embedder: Embedder,
    settings: PipelineSettings,
) -> list[Passage] | Verdict:
    """The passages the answer is written from, most likely to prompt the question first
    (pipeline/rerank.py): every section of the first ``rerank_keep`` articles in that order (an
    answer often needs a sibling section of the best one). A question no passage clearly
    prompts goes to a person; a model that cannot score leaves every passage in retrieval order."""
    ranked = ranking(passages, question, model=model, embedder=embedder, settings=settings)
    if ranked.fallback:
        return passages
    if ranked.confidence < settings.rerank_confidence:
        return Verdict.escalate(
            ReasonCode.OFF_QUESTION,
            detail=f"no passage clearly prompts the question (best share {ranked.confidence:.2f})",
        )
    kept = list(dict.fromkeys(p.article_id for p in ranked.passages))[: settings.rerank_keep]
    return [p for p in ranked.passages if p.article_id in kept]


class Evidence(list[Passage]):
    """The passages an answer is written from, and the sentences taken out of them as planted
    instructions (``planted``; :func:`decide` puts them on the reply)."""

    def __init__(
        self, passages: Iterable[Passage] = (), planted: Iterable[PlantedSentence] = ()
    ) -> None:
        super().__init__(passages)
        self.planted = list(planted)


def evidence(
    passages: list[Passage], query: str, embedder: Embedder, settings: PipelineSettings
) -> list[Passage]:
    """What the answer is written from: the whole sections, or the sentences nearest the query;
    either way without the sentences that instruct the assistant (guardrails/planted.py), which
    the returned :class:`Evidence` keeps. Passages with nothing planted are left as they are."""
    planted: list[PlantedSentence] = []
    if settings.screen_passages:
        passages, planted = clean_passages(passages)
    if settings.evidence == "focused":
        passages = focus(passages, query, embedder, sentences=settings.evidence_sentences)
    return Evidence(passages, planted)


def answer(
    model: ChatModel,
    prompt: Prompt,
    work: Work,
    gate: SentenceGate | None = None,
    *,
    each: bool = False,
) -> GeneratedAnswer | Verdict:
    """The answer over the evidence; a failing model is a verdict. The answer streams through
    ``gate`` as it is written (of a JSON reply, its ``"answer"`` string). With ``each``, an
    extractive answer is asked for each question of a message that asks several."""
    try:
        return generate_answer(
            model,
            prompt,
            question=work.core_issue,
            conversation=transcript(work.turns),
            passages=work.passages,
            latest=Latest.of(work.turns),
            on_text=gate.feed if gate is not None else None,
            on_retry=gate.restart if gate is not None else None,
            each=questions(work.core_issue) if each else (),
        )
    except LLMError as exc:
        return Verdict.escalate(ReasonCode.LLM_ERROR, detail=str(exc))


def usable(generated: GeneratedAnswer, handover: Handover, prompt: Prompt) -> AnswerDraft | Verdict:
    """The draft, unless the model's output never parsed, it said the passages do not answer,
    or (with no confidence model) it was likely to say so (``handover.decline_probability``,
    for a ``prompt`` that lets that be read)."""
    draft = generated.value
    if draft is None:
        return Verdict.escalate(
            ReasonCode.MALFORMED_OUTPUT, detail=f"unparseable after {generated.attempts} attempts"
        )
    if not draft.answerable:
        return Verdict.escalate(ReasonCode.MODEL_DECLINED, detail="the passages do not answer it")
    declining = draft.decline_probability
    if handover.reads_doubt and prompt.decline_option is not None and declining is None:
        detail = "the model's probability of declining could not be read (no log-probabilities)"
        return Verdict.escalate(ReasonCode.LLM_ERROR, detail=detail)
    threshold = handover.decline_probability
    if handover.model is None and declining is not None and declining >= threshold:
        detail = (
            f"the model's probability of replying that no sentence answers it is {declining:.2f}"
            f" (at least {threshold:.2f})"
        )
        return Verdict.escalate(ReasonCode.MODEL_DECLINED, detail=detail)
    return draft


def signals(draft: AnswerDraft, work: Work, embedder: Embedder) -> AnswerSignals | None:
    """What the confidence of a draft is read from (guardrails/confidence.py); None when the
    model's probability of declining was not read."""
    if draft.decline_probability is None:
        return None
    return AnswerSignals(
        decline_probability=draft.decline_probability,
        question_similarity=question_similarity(
            work.core_issue, split_sentences(draft.answer), embedder
        ),
        retrieval_best=max((p.dense_score for p in work.passages), default=0.0),
    )


def confident(confidence: float, read: AnswerSignals, threshold: float) -> Verdict | None:
    """The hand-over of an answer whose ``confidence`` (from the signals ``read``) is below
    the confidence model's ``threshold``; None when it is not."""
    if confidence >= threshold:
        return None
    detail = (
        f"answer confidence {confidence:.2f} (below {threshold:.2f}): probability of"
        f" declining {read.decline_probability:.2f}, similarity to the question"
        f" {read.question_similarity:.2f}, best passage {read.retrieval_best:.2f}"
    )
    return Verdict.escalate(ReasonCode.LOW_CONFIDENCE, detail=detail)


def check(
    draft: AnswerDraft,
    work: Work,
    *,
    embedder: Embedder,
    judge_model: ChatModel,
    guards: Guards,
) -> Verdict:
    """The two-tier guardrail (guardrails/cascade.py) on the draft's answer."""
    return check_answer(
        draft.answer,
        work.passages,
        embedder=embedder,
        judge_model=judge_model,
        conversation=work.turns,
        calibration=guards.calibration,
        judge_prompt=guards.judge_prompt,
        grounding_prompt=guards.grounding_prompt,
        policy=guards.policy,
        question=work.core_issue,
        quotes=draft.quotes,
        words=guards.words,
    )


def decide(work: Work, verdict: Verdict, settings: PipelineSettings, messages: Messages) -> Reply:
    """The reply: the answer when it passed; otherwise the hand-off (or, for a message outside
    the business when the settings say so, the polite decline), with the withheld draft, in
    the customer's language (``messages``)."""
    draft = work.draft if verdict.passed else None
    declined = ReasonCode.OUT_OF_SCOPE in verdict.reasons and settings.out_of_scope == "decline"
    text = messages.decline if declined else messages.handoff
    if work.shown and draft is None:  # the stream stopped: what was shown, then the hand-off
        text = " ".join(work.shown) + "\n\n" + text
    citations: list[Citation] = []
    if draft is not None:
        titles = {p.article_id: p.chunk.title for p in work.passages}
        text = draft.answer
        # The model's own citations; when it gave none, the articles the check found its
        # sentences in (an uncited answer cannot be checked by a person).
        cited = draft.citations or [a for a in verdict.sources if a in titles]
        citations = [Citation(article_id=a, title=titles[a]) for a in cited]
    withheld = work.draft if work.draft is not None and work.draft.answerable else None
    return Reply(
        text=text,
        answered=draft is not None,
        language=work.language,
        declined=declined and draft is None,
        citations=citations,
        core_issue=work.core_issue,
        classification=work.classification,
        verdict=verdict,
        withheld_answer=withheld.answer if withheld is not None and draft is None else None,
        reasoning=work.draft.thinking() if work.draft is not None else "",
        passages=work.passages,
        prompt_tokens=work.prompt_tokens,
        completion_tokens=work.completion_tokens,
        pii_kinds=work.pii_kinds,
        latency_ms=work.laps,
        shown=work.shown,
        planted=work.passages.planted if isinstance(work.passages, Evidence) else [],
        decline_probability=work.draft.decline_probability if work.draft is not None else None,
        signals=work.signals,
        answer_confidence=work.confidence,
    )
