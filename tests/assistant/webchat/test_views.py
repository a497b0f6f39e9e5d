"""What a customer sees of a stored message and of an article (pure view models)."""

from __future__ import annotations

from datetime import UTC, datetime

from assistant.pipeline.reply import Citation
from assistant.pipeline.trace import ReplyTrace
from assistant.storage import StoredMessage
from assistant.storage.conversations import AgentReply
from assistant.webchat.views import article_href, article_view, chat_line, chat_lines
from guardrails.verdict import ReasonCode, Verdict
from tests.conftest import make_passage

NOW = datetime(2026, 12, 3, tzinfo=UTC)
HANDOFF_MESSAGE = "A person will follow up here shortly."


def reply(text: str, *, escalation_id: str | None = None, cited: bool = True) -> StoredMessage:
    verdict = Verdict.escalate(ReasonCode.UNGROUNDED) if escalation_id else Verdict(outcome="pass")
    trace = ReplyTrace(
        answered=escalation_id is None,
        citations=[Citation(article_id="pay-002", title="Instant Pay")] if cited else [],
        verdict=verdict,
        escalation_id=escalation_id,
    )
    return StoredMessage(
        id="m2", role="assistant", text=text, created_at=NOW, meta=trace.model_dump(mode="json")
    )


def test_an_answer_is_its_paragraphs_with_links_to_its_articles() -> None:
    line = chat_line(reply("First part.\n\nSecond part."))
    assert line is not None
    assert (line.who, line.paragraphs, line.handoff) == (
        "Assistant",
        ["First part.", "Second part."],
        "",
    )
    assert [(c.title, c.href) for c in line.citations] == [
        ("Instant Pay", "/chat/articles/pay-002")
    ]


def test_a_handoff_after_shown_sentences_keeps_them_and_the_note_apart() -> None:
    line = chat_line(reply(f"Each cash-out costs $0.85.\n\n{HANDOFF_MESSAGE}", escalation_id="e1"))
    assert line is not None
    assert line.paragraphs == ["Each cash-out costs $0.85."]
    assert line.handoff == HANDOFF_MESSAGE
    alone = chat_line(reply(HANDOFF_MESSAGE, escalation_id="e1", cited=False))
    assert alone is not None and (alone.paragraphs, alone.handoff) == ([], HANDOFF_MESSAGE)


def test_people_are_the_support_team_and_other_roles_are_not_shown() -> None:
    agent = StoredMessage(
        id="m3",
        role="agent",
        text="Refunded.",
        created_at=NOW,
        meta=AgentReply(agent="alice", escalation_id="e1").model_dump(),
    )
    customer = StoredMessage(id="m1", role="customer", text="Hi", created_at=NOW, meta={})
    system = StoredMessage(id="m0", role="system", text="internal", created_at=NOW, meta={})
    lines = chat_lines([system, customer, agent])
    assert [(line.id, line.who) for line in lines] == [("m1", "You"), ("m3", "Support team")]
    assert "alice" not in lines[1].model_dump_json()


def test_an_article_is_its_sections_in_order_and_ids_are_quoted_in_links() -> None:
    sections = [
        make_passage("a-1", "Fees text.\n\nMore.", title="Fees & limits", section="Fees"),
        make_passage("b-2", "Other.", title="Other"),
        make_passage("a-1", "Who may.", title="Fees & limits", section="Eligibility"),
    ]
    view = article_view("a-1", sections)
    assert view is not None
    assert view.title == "Fees & limits"
    assert [(s.heading, s.paragraphs) for s in view.sections] == [
        ("Fees", ["Fees text.", "More."]),
        ("Eligibility", ["Who may."]),
    ]
    assert article_view("zzz", sections) is None
    assert article_href("a/../b c") == "/chat/articles/a%2F..%2Fb%20c"
