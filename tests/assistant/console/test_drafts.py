"""The reply editor of the case page starts from the withheld draft; resolving records whether the
agent sent it unchanged, edited it or replaced it, and the dashboard shows the shares (beside the
customers' feedback)."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from assistant.escalations.models import Evidence, NewEscalation
from assistant.wiring import Services
from core.llm.fake import FakeChatModel
from guardrails.verdict import ReasonCode, Verdict
from tests.assistant.api.conftest import Headers
from tests.assistant.api.test_escalations import escalated_case
from tests.assistant.console.test_routes import log_in
from tests.conftest import answer_json

DRAFT = "Loyal customers always get their refund approved."
EDITOR = re.compile(r'<textarea id="reply"[^>]*>(.*?)</textarea>', re.DOTALL)


def editor(page: str) -> str:
    found = EDITOR.search(page)
    assert found, "no reply editor on the page"
    return html.unescape(found.group(1))


def claimed_case(client: TestClient, model: FakeChatModel, token: str) -> str:
    _, case = escalated_case(client, model, "How long do I have to request a refund?")
    client.post(f"/console/cases/{case}/claim", data={"csrf_token": token})
    return case


def test_the_editor_starts_from_the_draft_with_its_citations(
    client: TestClient, model: FakeChatModel, keys: dict[str, Headers]
) -> None:
    token = log_in(client, keys["alice"])
    case = claimed_case(client, model, token)
    page = client.get(f"/console/cases/{case}").text
    assert editor(page) == DRAFT
    assert 'data-testid="draft-note"' in page
    assert "<b>ref-001</b> Refund deadlines" in page  # what the draft rests on
    assert 'data-testid="restore-draft"' in page
    assert "<script>" not in page  # the CSP forbids inline script


def test_a_case_without_a_draft_shows_an_empty_editor(
    client: TestClient, services: Services, keys: dict[str, Headers]
) -> None:
    convo = services.database.conversations.create()
    message = services.database.conversations.add_message(convo.id, role="customer", text="hi")
    for withheld in (None, "None"):
        case = services.desk.escalate(
            NewEscalation(
                conversation_id=convo.id,
                message_id=message.id,
                reasons=[ReasonCode.LLM_ERROR],
                tier=0,
                issue_type="unknown",
                core_issue="hi",
                transcript=[],
                verdict=Verdict.escalate(ReasonCode.LLM_ERROR),
                evidence=Evidence(withheld_answer=withheld),
            )
        )
        token = log_in(client, keys["alice"])
        page = client.post(f"/console/cases/{case.id}/claim", data={"csrf_token": token}).text
        assert editor(page) == ""
        assert "None</textarea>" not in page
        assert 'data-testid="draft-note"' not in page
        assert 'data-testid="restore-draft"' not in page


def test_unchanged_edited_and_replaced_drafts_are_in_the_audit_trail_and_on_the_dashboard(
    client: TestClient, model: FakeChatModel, services: Services, keys: dict[str, Headers]
) -> None:
    token = log_in(client, keys["alice"])
    replies = {
        "unchanged": f"  {DRAFT}\n",
        "edited": "Loyal customers always get their refund approved within 7 days.",
        "replaced": "Refunds must be requested within 7 days of delivery in Orders > Get Help.",
    }
    for use, reply in replies.items():
        case = claimed_case(client, model, token)
        done = client.post(
            f"/console/cases/{case}/resolve", data={"reply": reply, "csrf_token": token}
        )
        assert "case resolved" in done.text
        assert f"(draft {use}, " in done.text
        record = services.database.escalations.get(case)
        assert record.resolution.draft_use == use
        [resolved] = [e for e in record.events if e.action == "resolved"]
        assert resolved.detail["draft"] == use
        assert resolved.detail["kept"] == record.resolution.draft_kept
    # a case without a draft, resolved through the API: counted apart
    convo = services.database.conversations.create()
    message = services.database.conversations.add_message(convo.id, role="customer", text="hi")
    bare = services.desk.escalate(
        NewEscalation(
            conversation_id=convo.id,
            message_id=message.id,
            reasons=[ReasonCode.LLM_ERROR],
            tier=0,
            issue_type="unknown",
            core_issue="hi",
            transcript=[],
            verdict=Verdict.escalate(ReasonCode.LLM_ERROR),
            evidence=Evidence(),
        )
    )
    client.post(f"/v1/escalations/{bare.id}/claim", headers=keys["bob"])
    client.post(f"/v1/escalations/{bare.id}/resolve", json={"reply": "Hi!"}, headers=keys["bob"])
    events = client.get(f"/v1/escalations/{bare.id}", headers=keys["bob"]).json()["events"]
    assert "draft" not in events[-1]["detail"]

    counts = services.database.escalations.draft_counts()
    assert (counts.unchanged, counts.edited, counts.replaced, counts.no_draft) == (1, 1, 1, 1)
    page = client.get("/console/dashboard").text
    for use in replies:
        assert f'data-testid="drafts-{use}">33%<' in page
    assert "resolved without a draft" in page


def test_the_dashboard_shows_feedback_beside_the_judge(
    client: TestClient, model: FakeChatModel, services: Services, keys: dict[str, Headers]
) -> None:
    rated = []
    for rating in ("up", "up", "down"):
        model.enqueue(answer_json("Each Instant Pay cash-out costs $0.85.", ["pay-002"]))
        cid = client.post("/v1/conversations", json={}).json()["id"]
        body = client.post(
            f"/v1/conversations/{cid}/messages", json={"text": "How much does Instant Pay cost?"}
        ).json()
        reply_id = body["reply"]["id"]
        client.post(
            f"/v1/conversations/{cid}/messages/{reply_id}/feedback", json={"rating": rating}
        )
        rated.append((cid, reply_id))
    # the judge approved the first reply and scored the third low: both agree with the customer
    for (cid, reply_id), score in zip(rated[::2], (4, 2), strict=True):
        scores = dict.fromkeys(("retrieval", "accuracy", "language", "coherence", "relevance"), 4)
        scores["relevance"] = score
        services.database.quality.save_judgement(
            cid, reply_id, model="judge", scores=scores, rationales={}
        )
    log_in(client, keys["alice"])
    page = client.get("/console/dashboard").text
    assert 'data-testid="feedback-up">2<' in page
    assert 'data-testid="feedback-down">1<' in page
    assert 'data-testid="feedback-up-rate">67%<' in page
    assert 'data-testid="feedback-agreement">100%<' in page
    assert "(2 judged)" in page
