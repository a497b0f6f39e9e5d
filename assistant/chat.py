"""The chat use case: persist the customer's message, run the assistant, record the outcome.

Nothing the customer sends is lost: the message is stored (as the screen stage redacted it)
before the rest of the message path runs, and any failure after that becomes an escalation
with its reason. The writes that follow a stored message (its case, its reply) keep trying
through a database outage of up to ``STORE_PATIENCE_S`` (a restart takes seconds); a message
left unanswered past that is found by :meth:`ChatService.recover`, which a running server calls
every minute.

Messages of one conversation are answered one at a time, in the order they arrive: a second
message sent while the first is being answered waits, is stored after the first's reply and is
answered with it in the history (a lock per conversation, in this process).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel

from assistant.desk import AgentDesk
from assistant.escalations.models import Evidence, EvidencePassage, NewEscalation
from assistant.experiments.router import Assignment, ExperimentRouter
from assistant.monitoring.logs import trace_id
from assistant.pipeline.assistant import Assistant
from assistant.pipeline.reply import Reply, unclassified
from assistant.pipeline.stages import Screened
from assistant.pipeline.streaming import EventSink
from assistant.pipeline.trace import ReplyTrace
from assistant.storage import Database, StoredConversation, StoredMessage
from assistant.storage.experiments import Outcome
from assistant.storage.tables import utcnow
from core.conversation import Turn
from core.errors import DatabaseError
from guardrails.verdict import ReasonCode, Verdict

log = logging.getLogger(__name__)

# A customer message still unanswered this long after it was stored was abandoned by a server
# that stopped (no message takes this long: the model's timeouts are far shorter).
RECOVER_AFTER = timedelta(minutes=5)
# How long the writes after a stored customer message keep trying while the database is down.
STORE_PATIENCE_S = 30.0

T = TypeVar("T")


def persist(write: Callable[[], T], patience: float = STORE_PATIENCE_S) -> T:
    """``write()``, tried again with growing pauses while the database fails, for at most
    ``patience`` seconds; then its :class:`DatabaseError` goes on. (A write that committed but
    lost its connection before saying so is written twice: a duplicate beats a lost reply.)"""
    deadline = time.monotonic() + patience
    pause = 0.25
    while True:
        try:
            return write()
        except DatabaseError as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("database write failed; trying again", extra={"error": str(exc)})
            time.sleep(pause)
            pause = min(pause * 2, 4.0)


class MessageOutcome(BaseModel):
    customer_message: StoredMessage
    reply_message: StoredMessage
    reply: Reply
    escalation_id: str | None = None


def _turns(messages: list[StoredMessage]) -> list[Turn]:
    return [m.turn for m in messages if m.turn is not None]


def _internal_failure(assistant: Assistant, screened: Screened, exc: Exception) -> Reply:
    return Reply(
        text=assistant.messages(screened.work.language).handoff,
        language=screened.work.language,
        answered=False,
        core_issue=screened.work.core_issue,
        classification=unclassified(),
        verdict=Verdict.escalate(ReasonCode.INTERNAL_ERROR, detail=f"{type(exc).__name__}: {exc}"),
    )


def _evidence(reply: Reply, original: str | None) -> Evidence:
    return Evidence(
        withheld_answer=reply.withheld_answer,
        reasoning=reply.reasoning,
        passages=[
            EvidencePassage(
                article_id=p.article_id,
                title=p.chunk.title,
                section=p.chunk.section,
                text=p.text,
                score=p.score,
                dense_score=p.dense_score,
            )
            for p in reply.passages
        ],
        original_message=original,
        shown=reply.shown,
    )


class ConversationLocks:
    """One lock per conversation, kept only while a message of it is being answered."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def held(self, conversation_id: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(conversation_id, (threading.Lock(), 0))
            self._locks[conversation_id] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[conversation_id]
                if users == 1:
                    del self._locks[conversation_id]
                else:
                    self._locks[conversation_id] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


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
        self.locks = ConversationLocks()

    def post_message(
        self, conversation_id: str, text: str, events: EventSink | None = None
    ) -> MessageOutcome:
        """Answer one customer message, after any of the conversation's messages that came
        first. With ``events``, the reply streams: each stage reports when it starts and each
        answer sentence is sent once it has passed the check."""
        with self.locks.held(conversation_id):
            return self._post(conversation_id, text, events)

    def _post(self, conversation_id: str, text: str, events: EventSink | None) -> MessageOutcome:
        conversation = self.conversations.get(conversation_id)
        assistant, assignments = self._route(conversation)
        screened = assistant.screen(
            [*_turns(conversation.messages), Turn(role="customer", text=text)], events
        )
        customer = self.conversations.add_message(
            conversation_id,
            role="customer",
            text=screened.work.turns[-1].text,
            meta={"pii": screened.message_pii} if screened.message_pii else {},
        )
        reply = self._reply(assistant, screened, conversation_id, events)
        # The case is queued before the customer is told a person will follow up; personal
        # data is stored redacted, the original only in the case, where an agent may need it.
        original = text if screened.message_pii else None
        escalation_id = self._escalate(
            conversation_id, customer, screened.work.turns, reply, original
        )
        stored_reply = self._store_reply(
            conversation_id, reply, escalation_id, assignments, trace_id.get()
        )
        self._record_outcomes(
            assignments, conversation_id, customer, stored_reply, reply, escalation_id
        )
        _log(conversation_id, reply, escalation_id)
        return MessageOutcome(
            customer_message=customer,
            reply_message=stored_reply,
            reply=reply,
            escalation_id=escalation_id,
        )

    def recover(self, older_than: timedelta = RECOVER_AFTER) -> list[str]:
        """Customer messages left without a reply (the server stopped while answering them)
        become cases, and their customers are told a person will follow up: nothing sent is
        lost. Returns the new escalations' ids. Run at start, for messages older than
        ``older_than`` (another process may still be answering a newer one)."""
        recovered = []
        for conversation_id, message in self.conversations.unanswered(utcnow() - older_than):
            with self.locks.held(conversation_id):
                conversation = self.conversations.get(conversation_id)
                if conversation.messages[-1].id == message.id:
                    recovered.append(self._interrupted(conversation_id, conversation.messages))
        return recovered

    def _interrupted(self, conversation_id: str, messages: list[StoredMessage]) -> str:
        turns = _turns(messages)
        reply = Reply(
            text=self.assistant.messages(self.assistant.language_of(turns[-1].text)).handoff,
            answered=False,
            core_issue=turns[-1].text,
            classification=unclassified(),
            verdict=Verdict.escalate(
                ReasonCode.INTERNAL_ERROR,
                detail="interrupted: the server stopped before this message was answered",
            ),
        )
        escalation_id = self._escalate(conversation_id, messages[-1], turns, reply, None)
        assert escalation_id is not None  # a hand-off always escalates
        self._store_reply(conversation_id, reply, escalation_id, [], None)
        log.warning(
            "unanswered message escalated",
            extra={"conversation_id": conversation_id, "escalation_id": escalation_id},
        )
        return escalation_id

    def _store_reply(
        self,
        conversation_id: str,
        reply: Reply,
        escalation_id: str | None,
        assignments: list[Assignment],
        trace: str | None,
    ) -> StoredMessage:
        meta = ReplyTrace.of(
            reply,
            trace_id=trace,
            escalation_id=escalation_id,
            experiments={a.experiment_id: a.variant for a in assignments},
        ).model_dump(mode="json")
        return persist(
            lambda: self.conversations.add_message(
                conversation_id, role="assistant", text=reply.text, meta=meta
            )
        )

    def _route(self, conversation: StoredConversation) -> tuple[Assistant, list[Assignment]]:
        """The assistant of the conversation's experiment variants, with its exposures saved."""
        if self.router is None:
            return self.assistant, []
        assistant, assignments = self.router.route(conversation)
        for a in assignments:
            self.database.experiments.expose(a.experiment_id, a.unit_id, a.variant)
        return assistant, assignments

    def _reply(
        self,
        assistant: Assistant,
        screened: Screened,
        conversation_id: str,
        events: EventSink | None,
    ) -> Reply:
        try:
            return assistant.reply_to(screened, events)
        except Exception as exc:  # the last line of defence: escalate, never drop the message
            log.exception("assistant failed", extra={"conversation_id": conversation_id})
            return _internal_failure(assistant, screened, exc)

    def _escalate(
        self,
        conversation_id: str,
        customer: StoredMessage,
        transcript: list[Turn],
        reply: Reply,
        original: str | None,
    ) -> str | None:
        if reply.answered or reply.declined:
            return None
        case = NewEscalation(
            conversation_id=conversation_id,
            message_id=customer.id,
            reasons=reply.verdict.codes,
            tier=reply.verdict.tier,
            issue_type=reply.classification.issue_type,
            core_issue=reply.core_issue,
            transcript=transcript,
            verdict=reply.verdict,
            evidence=_evidence(reply, original),
        )
        return persist(lambda: self.desk.escalate(case)).id

    def _record_outcomes(
        self,
        assignments: list[Assignment],
        conversation_id: str,
        customer: StoredMessage,
        stored_reply: StoredMessage,
        reply: Reply,
        escalation_id: str | None,
    ) -> None:
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
                    reply_message_id=stored_reply.id,
                ),
            )


def _log(conversation_id: str, reply: Reply, escalation_id: str | None) -> None:
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
