"""The customer's feedback use case: a thumbs up or down, with an optional comment, on one of the
assistant's replies.

A thumbs-down on an answer (a reply that passed the check and reached the customer) opens a case
with the reason ``customer_feedback`` and the comment, so a person looks at it; a rating of a reply
that was handed over is added to the case the hand-off opened. Either way a later rating of the
same reply replaces the earlier one and joins the same case: never a second case.
"""

from __future__ import annotations

from datetime import datetime

from assistant.escalations.models import Evidence, EvidencePassage, NewEscalation
from assistant.escalations.priority import PriorityRules
from assistant.pipeline.trace import ReplyTrace
from assistant.storage import Database, StoredConversation, StoredMessage
from assistant.storage.conversations import Rating
from assistant.storage.feedback import CaseToOpen, FeedbackRecord, NewFeedback
from core.errors import NotFoundError, TetherError
from guardrails.verdict import ReasonCode


class NotAReplyError(TetherError):
    """Feedback is for the assistant's replies; this message is someone else's (409)."""


def _reply(conversation: StoredConversation, message_id: str) -> StoredMessage:
    message = next((m for m in conversation.messages if m.id == message_id), None)
    if message is None:
        raise NotFoundError(f"message {message_id} not found in conversation {conversation.id}")
    if message.role != "assistant":
        raise NotAReplyError(
            f"message {message_id} is a {message.role} message: feedback is for the "
            "assistant's replies"
        )
    return message


def feedback_case(
    conversation: StoredConversation, reply: StoredMessage, trace: ReplyTrace, comment: str | None
) -> NewEscalation:
    """The case a thumbs-down on ``reply`` (an answer) opens: the conversation up to it, the
    answer's own evidence, and the customer's comment."""
    upto = conversation.messages[: conversation.messages.index(reply) + 1]
    customer = next((m for m in reversed(upto) if m.role == "customer"), reply)
    said = f": {comment}" if comment else " (no comment)"
    return NewEscalation(
        conversation_id=conversation.id,
        message_id=customer.id,
        reasons=[ReasonCode.CUSTOMER_FEEDBACK],
        tier=trace.verdict.tier,
        issue_type=trace.issue_type,
        core_issue=trace.core_issue or customer.text,
        transcript=[m.turn for m in upto if m.turn is not None],
        verdict=trace.verdict.model_copy(
            update={
                "outcome": "escalate",
                "reasons": [ReasonCode.CUSTOMER_FEEDBACK],
                "detail": f"the customer rated the answer down{said}",
            }
        ),
        evidence=Evidence(
            reasoning=trace.reasoning,
            passages=[
                EvidencePassage(article_id=p.article_id, text=p.text) for p in trace.passages
            ],
            shown=[reply.text],
        ),
    )


class FeedbackService:
    def __init__(self, database: Database, rules: PriorityRules) -> None:
        self.database = database
        self.rules = rules

    def give(
        self,
        conversation: StoredConversation,
        message_id: str,
        *,
        rating: Rating,
        comment: str | None = None,
        now: datetime | None = None,
    ) -> FeedbackRecord:
        """Rate one of the assistant's replies in ``conversation`` (whose access the caller
        has checked). NotFoundError for a message not in it, NotAReplyError for one that is not
        the assistant's."""
        reply = _reply(conversation, message_id)
        trace = reply.trace
        case = None
        if rating == "down" and trace is not None and trace.answered:
            new = feedback_case(conversation, reply, trace, comment)
            case = CaseToOpen(
                new=new, priority=self.rules.assign(issue_type=new.issue_type, reasons=new.reasons)
            )
        return self.database.feedback.give(
            NewFeedback(
                conversation_id=conversation.id,
                message_id=message_id,
                rating=rating,
                comment=comment,
            ),
            existing_case=trace.escalation_id if trace is not None else None,
            case=case,
            now=now,
        )
