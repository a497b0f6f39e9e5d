"""The message path, read top-down: screen, condense, classify, retrieve, answer, check, decide.

Pure orchestration over the seams it is given (model, embedder, searcher, classifier); it never
raises for a failed answer or a failing service: every outcome is a :class:`Reply` with a verdict.
The stages themselves are in :mod:`assistant.pipeline.stages`. The business it answers for (its
prompts' fields, its messages, the languages it serves) is its profile (``core/profile.py``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from assistant.pipeline import stages
from assistant.pipeline.answer import AnswerDraft
from assistant.pipeline.classify import IssueClassifier
from assistant.pipeline.reply import Reply
from assistant.pipeline.settings import PipelineSettings
from assistant.pipeline.stages import Guards, Handover, Screened, Work
from assistant.pipeline.streaming import EventSink, Progress, SentenceGate
from core.conversation import Turn
from core.embeddings import Embedder
from core.languages import Language
from core.llm.base import ChatModel
from core.llm.queue import one_message
from core.profile import Messages, Profile, sample_profile
from core.prompts import Prompt, resolve_prompt
from guardrails.calibration import Calibration, load_calibration
from guardrails.cascade import check_tier1
from guardrails.compliance import load_policy
from guardrails.conditions import ConditionWords
from guardrails.confidence import ConfidenceModel, load_confidence_model
from guardrails.language import LanguageDetector, default_detector, language_of
from guardrails.quotes import Quote, check_quotes, misquotes
from guardrails.verdict import Verdict
from knowledge_base.articles import Passage
from knowledge_base.search import HybridSearcher


def business_prompt(ref: str, settings: PipelineSettings, profile: Profile) -> Prompt:
    """A prompt version, looked up in the settings' prompts folder (the profile's when they name
    none) before the bundled ones, with the business's fields filled in whenever it renders."""
    return resolve_prompt(ref, settings.prompts_dir or profile.prompts).bind(
        profile.prompt_fields()
    )


def resolve_guards(settings: PipelineSettings, profile: Profile | None = None) -> Guards:
    """The prompts, thresholds and policy of the check stage (the profile's policy unless the
    settings name one); a bad reference fails here, at start, not on a customer's message."""
    profile = profile or sample_profile()
    return Guards(
        calibration=_calibration(settings, profile),
        policy=load_policy(settings.compliance_policy or profile.compliance_policy),
        judge_prompt=business_prompt(settings.judge_prompt, settings, profile),
        grounding_prompt=business_prompt(settings.grounding_prompt, settings, profile),
        words=ConditionWords.of(profile.name, profile.condition_scopes),
    )


def _calibration(settings: PipelineSettings, profile: Profile) -> Calibration:
    """The guardrail thresholds, with the relevance threshold the settings or the profile set
    for their knowledge base (the calibration's is for none in particular)."""
    given = settings.guardrails_calibration
    calibration = given if isinstance(given, Calibration) else load_calibration(given)
    coverage = settings.relevance_coverage
    if coverage is None:
        coverage = profile.relevance_coverage
    if coverage is None:
        return calibration
    return calibration.model_copy(update={"relevance_coverage": coverage})


def resolve_handover(settings: PipelineSettings, profile: Profile | None = None) -> Handover:
    """The hand-over of extractive answers: the settings' choice, else the profile's, else the
    confidence model (the settings' or the bundled one, read here, at start)."""
    kind = settings.handover or (profile or sample_profile()).handover or "confidence"
    if kind == "decline_probability":
        return Handover(decline_probability=settings.decline_probability)
    given = settings.confidence_model
    model = given if isinstance(given, ConfidenceModel) else load_confidence_model(given)
    return Handover(decline_probability=settings.decline_probability, model=model)


class Assistant:
    def __init__(
        self,
        *,
        model: ChatModel,
        embedder: Embedder,
        searcher: HybridSearcher,
        classifier: IssueClassifier,
        settings: PipelineSettings | None = None,
        judge_model: ChatModel | None = None,
        profile: Profile | None = None,
        detector: LanguageDetector | None = None,
    ) -> None:
        self.model = model
        self.judge_model = judge_model or model
        self.embedder = embedder
        self.searcher = searcher
        self.classifier = classifier
        self.settings = settings or PipelineSettings()
        self.profile = profile or sample_profile()
        self.detector = detector or default_detector()
        self.answer_prompt = business_prompt(
            self.settings.answer_prompt, self.settings, self.profile
        )
        self.condense_prompt = business_prompt(
            self.settings.condense_prompt, self.settings, self.profile
        )
        self.guards = resolve_guards(self.settings, self.profile)
        self.handover = resolve_handover(self.settings, self.profile)

    def with_config(self, overrides: Mapping[str, object]) -> Assistant:
        """The same seams under other message-path settings (an experiment's variant, a
        benchmark's prompt versions); each override is checked as the setting it names."""
        if not overrides:
            return self
        return Assistant(
            model=self.model,
            judge_model=self.judge_model,
            embedder=self.embedder,
            searcher=self.searcher,
            classifier=self.classifier,
            settings=self.settings.updated(overrides),
            profile=self.profile,
            detector=self.detector,
        )

    def screen(self, turns: Sequence[Turn], events: EventSink | None = None) -> Screened:
        """The first stage on its own: the chat service stores the customer's message as this
        redacts it, then goes on with :meth:`reply_to`."""
        if events is not None:
            events(Progress(stage="screen"))
        start = time.perf_counter()
        screened = stages.screen(turns, self.settings, profile=self.profile, detector=self.detector)
        screened.work.laps["screen"] = _since(start)
        return screened

    def respond(self, turns: Sequence[Turn]) -> Reply:
        return self.reply_to(self.screen(turns))

    def reply_to(self, screened: Screened, events: EventSink | None = None) -> Reply:
        """The stages after the screen, in order, until one returns the verdict; then the reply.
        With ``events``, each stage reports when it starts and each answer sentence is sent as
        soon as it has passed the check (assistant/pipeline/streaming.py). Its model calls
        keep the message's place in the model's line (core/llm/queue.py)."""
        work = screened.work
        work.events = events
        start = time.perf_counter()
        with one_message():
            verdict = screened.stop or self._run(work)
        work.laps["total"] = round(work.laps.get("screen", 0.0) + _since(start), 1)
        return stages.decide(work, verdict, self.settings, self.messages(work.language))

    def messages(self, language: Language | None) -> Messages:
        """The profile's messages in ``language`` (its default language's when None)."""
        return self.profile.messages_for(language)

    def language_of(self, text: str) -> Language | None:
        """The language of ``text`` when the detector is sure of it (None when it is not, or
        detection is off)."""
        if not self.settings.detect_language:
            return None
        found = language_of([text], self.detector, self.settings.language_confidence)
        return found.language if found is not None else None

    def _run(self, work: Work) -> Verdict:
        with work.timed("condense"):
            work.core_issue = stages.condense(
                work.turns, self.model, self.settings, self.condense_prompt
            )
        with work.timed("classify"):
            work.classification = self.classifier.classify(work.core_issue)
        with work.timed("retrieve"):
            found = stages.retrieve(
                work.core_issue, work.classification, self.searcher, self.settings
            )
        if isinstance(found, Verdict):
            return found
        work.passages = found
        relevant = stages.relevant(found, work.classification, self.settings)
        if isinstance(relevant, Verdict):
            return relevant
        ranked = self._rerank(relevant, work)
        if isinstance(ranked, Verdict):
            return ranked
        work.passages = ranked
        with work.timed("focus"):
            work.passages = stages.evidence(ranked, work.core_issue, self.embedder, self.settings)
        return self._answer_and_check(work)

    def _rerank(self, passages: list[Passage], work: Work) -> list[Passage] | Verdict:
        """The passages in the order the settings ask for (a stage of its own only when they
        ask for reranking)."""
        if self.settings.rerank == "none":
            return passages
        with work.timed("rerank"):
            return stages.rerank(
                passages,
                work.core_issue,
                model=self.model,
                embedder=self.embedder,
                settings=self.settings,
            )

    def _answer_and_check(self, work: Work) -> Verdict:
        gate = self._gate(work)
        with work.timed("generate"):
            generated = stages.answer(
                self.model, self.answer_prompt, work, gate, each=self.settings.answer_each
            )
        if isinstance(generated, Verdict):
            return generated
        work.draft = generated.value
        work.prompt_tokens = generated.prompt_tokens
        work.completion_tokens = generated.completion_tokens
        draft = stages.usable(generated, self.handover, self.answer_prompt)
        if isinstance(draft, Verdict):
            return draft
        held = self._handed_over(draft, work)
        if held is not None:
            return held
        with work.timed("guardrail"):
            verdict = stages.check(
                draft,
                work,
                embedder=self.embedder,
                judge_model=self.judge_model,
                guards=self.guards,
            )
        if gate is not None:
            gate.finish(verdict.passed, draft.answer)
            work.shown = gate.shown
        return verdict

    def _handed_over(self, draft: AnswerDraft, work: Work) -> Verdict | None:
        """The hand-over of a draft the confidence model is not sure of (its signals are kept
        on the reply either way, for the model's next fit)."""
        work.signals = stages.signals(draft, work, self.embedder)
        model = self.handover.model
        if work.signals is None or model is None:
            return None
        confidence = model.confidence(work.signals)
        work.confidence = round(confidence, 4)
        return stages.confident(confidence, work.signals, model.threshold)

    def _gate(self, work: Work) -> SentenceGate | None:
        """For a streamed reply: the gate its answer sentences go through (tier 1 alone while the
        answer is written, the whole check at the end)."""
        if work.events is None:
            return None
        guards = self.guards

        def passes(sentence: str) -> bool:
            return check_tier1(
                sentence,
                work.passages,
                embedder=self.embedder,
                conversation=work.turns,
                calibration=guards.calibration,
                policy=guards.policy,
                question=work.core_issue,
                words=guards.words,
            ).passed

        def quoted(quotes: list[Quote]) -> bool:
            return not misquotes(check_quotes(quotes, work.passages))

        titles = {p.article_id: p.chunk.title for p in work.passages}
        json = self.answer_prompt.json_mode
        return SentenceGate(passes, work.events, titles, json=json, quoted=quoted)


def _since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
