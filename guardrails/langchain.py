"""Tether's answer check as a LangChain Runnable (optional: ``pip install -e '.[langchain]'``).

Input: :class:`CheckInput` (or a mapping with its fields): the ``question``, the ``passages``
the answer was written from (LangChain documents, e.g. from
:class:`knowledge_base.langchain.TetherRetriever`, or Tether passages) and the ``answer``.
Output: the typed :class:`~guardrails.verdict.Verdict`. Tier 1 alone by default
(:func:`guardrails.cascade.check_tier1`: what it would leave to a judge escalates); with a
:class:`Judge`, the whole cascade (:func:`guardrails.cascade.check_answer`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.documents import Document
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from pydantic import BaseModel, ConfigDict

from core.conversation import Turn
from core.embeddings import Embedder
from core.llm.base import ChatModel
from core.prompts import Prompt, load_prompt
from guardrails.calibration import Calibration, load_calibration
from guardrails.cascade import check_answer, check_tier1
from guardrails.compliance import CompliancePolicy
from guardrails.verdict import Verdict
from knowledge_base.articles import Passage
from knowledge_base.langchain import document_passage

# The message path's defaults (assistant/pipeline/settings.py: judge_prompt, grounding_prompt).
JUDGE_PROMPT = "judge@1"
GROUNDING_PROMPT = "grounding@2"


class CheckInput(BaseModel):
    """What the check reads: the customer's question, the passages, the answer to check."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    question: str = ""
    passages: list[Document | Passage]
    answer: str

    def tether_passages(self) -> list[Passage]:
        return [p if isinstance(p, Passage) else document_passage(p) for p in self.passages]


class Judge(BaseModel):
    """Tier 2: the chat model that judges what tier 1 flags, with its two prompts."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: ChatModel
    judge_prompt: Prompt
    grounding_prompt: Prompt

    @classmethod
    def bundled(cls, model: ChatModel) -> Judge:
        """``model`` with the bundled prompts the message path uses by default."""
        return cls(
            model=model,
            judge_prompt=load_prompt(JUDGE_PROMPT),
            grounding_prompt=load_prompt(GROUNDING_PROMPT),
        )


class AnswerCheck(RunnableSerializable[CheckInput | Mapping[str, Any], Verdict]):
    """The guardrail cascade on one answer; ``batch`` checks several (on threads)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    embedder: Embedder
    calibration: Calibration
    policy: CompliancePolicy | None = None
    judge: Judge | None = None

    @classmethod
    def bundled(cls, embedder: Embedder, *, judge: Judge | None = None) -> AnswerCheck:
        """The check with the bundled calibration (guardrails/calibration.yaml, tuned for the
        MiniLM embedder) and no compliance policy."""
        return cls(embedder=embedder, calibration=load_calibration(), judge=judge)

    def invoke(
        self,
        input: CheckInput | Mapping[str, Any],
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> Verdict:
        return self._call_with_config(self._check, input, config, run_type="chain")

    def _check(self, input: CheckInput | Mapping[str, Any]) -> Verdict:
        request = input if isinstance(input, CheckInput) else CheckInput.model_validate(input)
        passages = request.tether_passages()
        conversation = [Turn(role="customer", text=request.question)] if request.question else []
        if self.judge is None:
            return check_tier1(
                request.answer,
                passages,
                embedder=self.embedder,
                conversation=conversation,
                calibration=self.calibration,
                policy=self.policy,
                question=request.question,
            )
        return check_answer(
            request.answer,
            passages,
            embedder=self.embedder,
            judge_model=self.judge.model,
            conversation=conversation,
            calibration=self.calibration,
            judge_prompt=self.judge.judge_prompt,
            grounding_prompt=self.judge.grounding_prompt,
            policy=self.policy,
            question=request.question,
        )
