"""A message the check cannot read (not English) goes to a person, who is announced in the
customer's language; short messages and English go on as before."""

from __future__ import annotations

from collections.abc import Callable

from assistant.chat import ChatService
from assistant.desk import AgentDesk
from assistant.pipeline.assistant import Assistant
from assistant.storage import Database
from assistant.workers import BusyError, MessageWorkers
from core.conversation import Turn
from core.languages import BUILTIN_HANDOFF, Language
from core.llm.fake import FakeChatModel
from core.profile import sample_profile
from guardrails.verdict import ReasonCode
from tests.conftest import answer_json

Build = Callable[..., Assistant]

GERMAN = "Wie viel kostet eine Auszahlung mit Instant Pay?"


def customer(*texts: str) -> list[Turn]:
    return [Turn(role="customer", text=t) for t in texts]


def test_a_german_message_is_handed_over_in_german_without_calling_the_model(
    make_assistant: Build,
) -> None:
    model = FakeChatModel()
    reply = make_assistant(model).respond(customer(GERMAN))
    assert not reply.answered
    assert reply.verdict.reasons == [ReasonCode.UNSUPPORTED_LANGUAGE]
    assert reply.language == Language.DE
    assert reply.text == sample_profile().messages_for(Language.DE).handoff
    assert "written in de" in reply.verdict.detail
    assert model.calls == []


def test_a_language_without_profile_messages_gets_the_built_in_hand_off(
    make_assistant: Build,
) -> None:
    reply = make_assistant(FakeChatModel()).respond(
        customer("Quanto tempo richiede il controllo dei precedenti per i corrieri?")
    )
    assert reply.text == BUILTIN_HANDOFF[Language.IT]


def test_a_short_reply_after_english_is_answered_in_english(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(
        answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"])
    )
    turns = [
        Turn(role="customer", text="How much does an Instant Pay cash-out cost?"),
        Turn(role="assistant", text="Do you mean the fee?"),
        Turn(role="customer", text="ok"),
    ]
    reply = make_assistant(model).respond(turns)
    assert reply.answered
    assert reply.language == Language.EN


def test_detection_can_be_turned_off(make_assistant: Build) -> None:
    model = FakeChatModel().enqueue(answer_json("Eine Auszahlung kostet $0.85.", ["pay-002"]))
    reply = make_assistant(model, detect_language=False).respond(customer(GERMAN))
    assert ReasonCode.UNSUPPORTED_LANGUAGE not in reply.verdict.reasons
    assert reply.language is None
    assert len(model.calls) >= 1


def test_the_case_is_escalated_with_its_reason(
    make_assistant: Build, database: Database, desk: AgentDesk
) -> None:
    chat = ChatService(database=database, desk=desk, assistant=make_assistant(FakeChatModel()))
    conversation = database.conversations.create()
    outcome = chat.post_message(conversation.id, GERMAN)
    assert outcome.escalation_id is not None
    case = database.escalations.get(outcome.escalation_id)
    assert case.reasons == [ReasonCode.UNSUPPORTED_LANGUAGE]


def test_the_busy_refusal_is_in_the_customers_language(
    make_assistant: Build, database: Database, desk: AgentDesk
) -> None:
    chat = ChatService(database=database, desk=desk, assistant=make_assistant(FakeChatModel()))
    workers = MessageWorkers(chat, workers=1, capacity=1)
    workers._in_flight = 1  # every place taken
    for text, language in ((GERMAN, Language.DE), ("How much is a cash-out?", Language.EN)):
        try:
            workers.submit("c1", text)
        except BusyError as exc:
            expected = (
                sample_profile()
                .messages_for(language)
                .busy_text(in_flight=1, retry_after=exc.retry_after)
            )
            assert str(exc) == expected
        else:
            raise AssertionError("not refused")
    workers.close()
