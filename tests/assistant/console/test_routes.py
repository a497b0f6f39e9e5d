import html
import re

from fastapi.testclient import TestClient

from core.llm.fake import FakeChatModel
from tests.assistant.api.conftest import Headers
from tests.assistant.api.test_escalations import escalated_case


def log_in(client: TestClient, headers: Headers) -> str:
    """Log in with the key of ``headers``; returns the session's CSRF token for forms."""
    key = headers["Authorization"].removeprefix("Bearer ")
    response = client.post("/console/login", data={"key": key}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    return csrf_of(client.get("/console").text)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def test_pages_need_a_staff_login(client: TestClient, keys: dict[str, Headers]) -> None:
    for path in ("/console", "/console/cases/x"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/console/login")
    assert client.post("/console/cases/x/claim", follow_redirects=False).status_code == 303
    bad = client.post("/console/login", data={"key": "tth_wrong"})
    assert bad.status_code == 401
    assert "unknown or revoked" in bad.text
    customer = keys["cust-a"]["Authorization"].removeprefix("Bearer ")
    refused = client.post("/console/login", data={"key": customer})
    assert refused.status_code == 403
    assert "customer key" in refused.text


def test_the_queue_shows_counts_and_filters(
    client: TestClient, model: FakeChatModel, keys: dict[str, Headers]
) -> None:
    _, case = escalated_case(client, model, "How long do I have to request a refund?")
    log_in(client, keys["alice"])
    page = client.get("/console")
    assert page.status_code == 200
    assert f'data-case="{case}"' in page.text
    assert 'data-testid="count-waiting">1<' in page.text
    assert "How long do I have to request a refund?" in page.text
    filtered = client.get("/console", params={"reason": "llm_error"})
    assert f'data-case="{case}"' not in filtered.text
    assert "Nothing in the queue" in filtered.text
    assert f'data-case="{case}"' in client.get("/console", params={"issue_type": "refunds"}).text


def test_the_case_page_highlights_flagged_sentences_beside_evidence_and_judge(
    client: TestClient, model: FakeChatModel, keys: dict[str, Headers]
) -> None:
    _, case = escalated_case(client, model, "How long do I have to request a refund?")
    log_in(client, keys["alice"])
    page = client.get(f"/console/cases/{case}").text
    assert '<mark data-finding="0">Loyal customers always get their refund approved.</mark>' in page
    finding = client.get(f"/v1/escalations/{case}", headers=keys["alice"]).json()["verdict"]
    evidence = finding["flagged"][0]["evidence"]
    assert evidence
    assert f"<blockquote>{html.escape(evidence)}</blockquote>" in page
    assert "<b>grounding</b> fail: 12% likely supported by the passages" in page
    assert "% of its words in the evidence" in page
    assert 'data-testid="claim"' in page
    assert 'data-testid="reply-form"' not in page  # not before claiming


def test_claim_reply_resolve_from_the_console_reaches_the_customer(
    client: TestClient, model: FakeChatModel, keys: dict[str, Headers]
) -> None:
    cid, case = escalated_case(client, model, "How long do I have to request a refund?")
    token = log_in(client, keys["alice"])
    claimed = client.post(f"/console/cases/{case}/claim", data={"csrf_token": token})
    assert "You claimed this case." in claimed.text
    assert 'data-testid="reply-form"' in claimed.text
    noted = client.post(
        f"/console/cases/{case}/notes", data={"text": "checked ref-001", "csrf_token": token}
    )
    assert "checked ref-001" in noted.text
    empty = client.post(f"/console/cases/{case}/resolve", data={"reply": "  ", "csrf_token": token})
    assert "the reply is empty" in empty.text
    done = client.post(
        f"/console/cases/{case}/resolve",
        data={
            "reply": "You have 7 days.",
            "kb_gap": "1",
            "regression": "1",
            "expect": "answer",
            "csrf_token": token,
        },
    )
    assert "case resolved" in done.text
    seen = client.get(f"/v1/conversations/{cid}", headers=keys["cust-a"]).json()
    assert (seen["messages"][-1]["text"], seen["messages"][-1]["from_person"]) == (
        "You have 7 days.",
        True,
    )
    assert "checked ref-001" not in str(seen)
    gaps = client.get("/v1/admin/kb-gaps", headers=keys["root"]).json()
    assert len(gaps) == 1


def test_a_case_someone_else_claimed_shows_the_conflict(
    client: TestClient, model: FakeChatModel, keys: dict[str, Headers]
) -> None:
    _, case = escalated_case(client, model, "How long do I have to request a refund?")
    client.post(f"/v1/escalations/{case}/claim", headers=keys["bob"])
    token = log_in(client, keys["alice"])
    page = client.post(f"/console/cases/{case}/claim", data={"csrf_token": token})
    assert "already claimed by bob" in page.text
    stolen = client.post(
        f"/console/cases/{case}/resolve", data={"reply": "hi", "csrf_token": token}
    )
    assert "claimed by bob; only they can resolve it" in stolen.text
    missing = client.get("/console/cases/nope")
    assert "escalation nope not found" in missing.text
