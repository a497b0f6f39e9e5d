"""The chat use case: persist the customer's message, run the assistant, record the outcome.

Nothing the customer sends is lost: the message is stored before the assistant runs, and any
failure after that becomes an escalation with its reason.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

from assistant.classify import UNKNOWN, Classification
from assistant.conversation import Turn
from assistant.escalations.desk import AgentDesk
from assistant.escalations.models import NewEscalation
from assistant.experiments.router import ExperimentRouter
from assistant.monitoring.logs import trace_id
from assistant.pipeline import HANDOFF_MESSAGE, Assistant, Reply
from assistant.storage import Database, StoredMessage
from assistant.storage.experiments import Outcome
from guardrails.pii import redact
from guardrails.verdict import ReasonCode, Verdict

log = logging.getLogger(__name__)


class MessageOutcome(BaseModel):
    customer_message: StoredMessage
    reply_message: StoredMessage
    reply: Reply
    escalation_id: str | None = None


def _turns(messages: list[StoredMessage]) -> list[Turn]:
    return [
        Turn(role=m.role, text=m.text)
        for m in messages
        if m.role in ("customer", "assistant", "agent")
    ]


def _internal_failure(turns: list[Turn], exc: Exception) -> Reply:
    return Reply(
        text=HANDOFF_MESSAGE,
        answered=False,
        core_issue=turns[-1].text if turns else "",
        classification=Classification(issue_type=UNKNOWN, confidence=0.0, best_guess=UNKNOWN),
        verdict=Verdict.escalate(ReasonCode.INTERNAL_ERROR, detail=f"{type(exc).__name__}: {exc}"),
    )


def _evidence(reply: Reply) -> dict[str, Any]:
    return {
        "withheld_answer": reply.withheld_answer,
        "reasoning": reply.reasoning,
        "passages": [
            {
                "article_id": p.article_id,
                "title": p.chunk.title,
                "section": p.chunk.section,
                "text": p.text,
                "score": p.score,
                "dense_score": p.dense_score,
            }
            for p in reply.passages
        ],
    }


class ChatService:
    def __init__(
        self,
        *,
        database: Database,
        desk: AgentDesk,
        assistant: Assistant,
        router: ExperimentRouter | None = None,
    ) -> None:
        self.database = database
        self.conversations = database.conversations
        self.desk = desk
        self.assistant = assistant
        self.router = router

    def post_message(self, conversation_id: str, text: str) -> MessageOutcome:
        # Personal data is stored redacted; the original is kept only in an escalation, where
        # an agent may need it.
        redaction = redact(text) if self.assistant.config.redact_pii else None
        stored_text = redaction.text if redaction is not None else text
        customer = self.conversations.add_message(
            conversation_id,
            role="customer",
            text=stored_text,
            meta={"pii": redaction.kinds()} if redaction is not None and redaction.found else {},
        )
        conversation = self.conversations.get(conversation_id)
        turns = _turns(conversation.messages)
        assistant, assignments = (
            self.router.route(conversation) if self.router else (self.assistant, [])
        )
        for a in assignments:
            self.database.experiments.expose(a.experiment_id, a.unit_id, a.variant)
        try:
            reply = assistant.respond(turns)
        except Exception as exc:  # the last line of defence: escalate, never drop the message
            log.exception("assistant failed", extra={"conversation_id": conversation_id})
            reply = _internal_failure(turns, exc)
        meta = {
            "answered": reply.answered,
            "citations": [c.model_dump() for c in reply.citations],
            "issue_type": reply.classification.issue_type,
            "confidence": reply.classification.confidence,
            "verdict": reply.verdict.model_dump(mode="json"),
            "latency_ms": reply.latency_ms,
            "trace_id": trace_id.get(),
            "trace": {"core_issue": reply.core_issue, "reasoning": reply.reasoning},
            # For the quality monitor: what the model was given, and how close the best was.
            "retrieval_best": max((p.dense_score for p in reply.passages), default=None),
            "passages": [{"article_id": p.article_id, "text": p.text} for p in reply.passages[:4]],
        }
        # The case is queued before the customer is told a person will follow up.
        escalation_id = None
        if not reply.answered and not reply.declined:
            record = self.desk.escalate(
                NewEscalation(
                    conversation_id=conversation_id,
                    message_id=customer.id,
                    reasons=reply.verdict.codes,
                    tier=reply.verdict.tier,
                    issue_type=reply.classification.issue_type,
                    core_issue=reply.core_issue,
                    transcript=[t.model_dump() for t in turns],
                    verdict=reply.verdict.model_dump(mode="json"),
                    evidence={
                        **_evidence(reply),
                        **(
                            {"original_message": text}
                            if redaction is not None and redaction.found
                            else {}
                        ),
                    },
                )
            )
            escalation_id = record.id
        stored_reply = self.conversations.add_message(
            conversation_id,
            role="assistant",
            text=reply.text,
            meta={
                **meta,
                "escalation_id": escalation_id,
                "experiments": {a.experiment_id: a.variant for a in assignments},
            },
        )
        for a in assignments:
            self.database.experiments.record(
                a.experiment_id,
                Outcome(
                    unit_id=a.unit_id,
                    variant=a.variant,
                    conversation_id=conversation_id,
                    message_id=customer.id,
                    escalated=not reply.answered,
                    escalation_id=escalation_id,
                    latency_ms=reply.latency_ms.get("total", 0.0),
                ),
            )
        log.info(
            "message handled",
            extra={
                "conversation_id": conversation_id,
                "answered": reply.answered,
                "reasons": reply.verdict.codes,
                "tier": reply.verdict.tier,
                "issue_type": reply.classification.issue_type,
                "escalation_id": escalation_id,
                "latency_ms": reply.latency_ms.get("total"),
            },
        )
        return MessageOutcome(
            customer_message=customer,
            reply_message=stored_reply,
            reply=reply,
            escalation_id=escalation_id,
        )
