"""The chat page on fakes: sign-in (customer keys only), conversations owned by the key id, a
message sent without script shows its reply, CSRF and the Origin check, the article view."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from assistant.console.routes import COOKIE as CONSOLE_COOKIE
from assistant.webchat.routes import HERE
from assistant.webchat.session import COOKIE
from assistant.wiring import Services
from core.llm.fake import FakeChatModel
from tests.assistant.api.conftest import Headers
from tests.assistant.api.test_streaming import events
from tests.assistant.console.test_routes import log_in
from tests.assistant.console.test_security import assert_secure_headers
from tests.conftest import answer_json

EVIL = "https://evil.example"
ANSWER = "Each Instant Pay cash-out costs $0.85."


def key_of(headers: Headers) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, headers: Headers) -> str:
    """Sign in on /chat with the key of ``headers``; the session's CSRF token for forms."""
    response = client.post("/chat/signin", data={"key": key_of(headers)}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/chat")
    return csrf_of(client.get("/chat").text)


def start(client: TestClient, token: str) -> str:
    """Start a conversation from /chat; its id."""
    response = client.post(
        "/chat/conversations", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    found = re.fullmatch(r"/chat/conversations/([0-9a-f]+)", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def send(client: TestClient, cid: str, token: str, text: str) -> str:
    """Post the page's form as a browser without script does; the page it lands on."""
    response = client.post(
        f"/chat/conversations/{cid}/messages",
        data={"text": text, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client.get(response.headers["location"]).text


# -- signing in -------------------------------------------------------------------------------


def test_a_customer_key_signs_in_to_a_session_of_the_chat_page(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    page = client.get("/chat")
    assert page.status_code == 200 and 'action="/chat/signin"' in page.text
    assert 'data-testid="business">Hoppa <span>support chat' in page.text  # the profile's name
    response = client.post(
        "/chat/signin", data={"key": key_of(keys["cust-a"])}, follow_redirects=False
    )
    header = response.headers["set-cookie"]
    assert key_of(keys["cust-a"]) not in header
    assert response.cookies[COOKIE].startswith("tcs_")
    assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/chat" in header
    home = client.get("/chat").text
    assert 'data-testid="customer-name">cust-a<' in home
    assert 'action="/chat/conversations"' in home and csrf_of(home)


def test_a_bad_key_is_refused(client: TestClient) -> None:
    for key in ("tth_wrong", ""):
        response = client.post("/chat/signin", data={"key": key}, follow_redirects=False)
        assert response.status_code == 401
        assert "set-cookie" not in response.headers
    assert "unknown or revoked" in client.post("/chat/signin", data={"key": "tth_x"}).text


@pytest.mark.parametrize(("who", "article"), [("alice", "an agent"), ("root", "an admin")])
def test_a_staff_key_is_refused_and_pointed_to_the_console(
    client: TestClient, keys: dict[str, Headers], services: Services, who: str, article: str
) -> None:
    response = client.post("/chat/signin", data={"key": key_of(keys[who])}, follow_redirects=False)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert f"The chat page is for customers: this is {article} key" in response.text
    assert "/console/live" in response.text


def test_a_session_opens_the_chat_page_or_the_console_never_both(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    log_in(client, keys["alice"])  # a staff session, in the console's cookie
    staff = client.cookies[CONSOLE_COOKIE]
    client.cookies.set(COOKIE, staff, path="/chat")
    assert 'action="/chat/signin"' in client.get("/chat").text  # not signed in here
    assert client.post("/chat/conversations", follow_redirects=False).headers["location"] == "/chat"
    client.cookies.clear()
    sign_in(client, keys["cust-a"])
    customer = client.cookies[COOKIE]
    client.cookies.set(CONSOLE_COOKIE, customer, path="/console")
    refused = client.get("/console", follow_redirects=False)
    assert (refused.status_code, refused.headers["location"]) == (303, "/console/login")
    # ... and the session's token is no API key
    as_key = {"Authorization": f"Bearer {customer}"}
    assert client.get("/v1/conversations/x", headers=as_key).status_code == 401


def test_signing_out_ends_the_session_for_good(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    token = sign_in(client, keys["cust-a"])
    cookie = client.cookies[COOKIE]
    assert client.post("/chat/signout", data={"csrf_token": "0" * 64}).status_code == 403
    out = client.post("/chat/signout", data={"csrf_token": token}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/chat")
    client.cookies.set(COOKIE, cookie, path="/chat")  # a copy kept by whoever took it
    assert 'action="/chat/signin"' in client.get("/chat").text


def test_revoking_the_key_ends_its_chat_sessions(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    sign_in(client, keys["cust-a"])
    assert 'data-testid="customer-name"' in client.get("/chat").text
    assert client.delete("/v1/admin/keys/cust-a", headers=keys["root"]).status_code == 200
    assert 'action="/chat/signin"' in client.get("/chat").text


# -- conversations ----------------------------------------------------------------------------


def test_a_message_posted_without_script_shows_its_cited_reply(
    client: TestClient, keys: dict[str, Headers], model: FakeChatModel
) -> None:
    token = sign_in(client, keys["cust-a"])
    cid = start(client, token)
    model.enqueue(answer_json(ANSWER, ["pay-002"]))
    page = send(client, cid, token, "How much does Instant Pay cost?")
    assert '<p class="text">How much does Instant Pay cost?</p>' in page
    assert f'<p class="text">{html.escape(ANSWER)}</p>' in page
    assert (
        '<a href="/chat/articles/pay-002" target="_blank" rel="noopener" '
        'data-testid="citation">Instant Pay for couriers</a>' in page
    )
    # the same conversation through the API, with the same customer key: one owner, by key id
    messages = client.get(f"/v1/conversations/{cid}", headers=keys["cust-a"]).json()["messages"]
    assert [m["text"] for m in messages] == ["How much does Instant Pay cost?", ANSWER]


def test_a_withheld_answer_shows_the_handoff_and_then_the_agents_reply(
    client: TestClient, keys: dict[str, Headers], model: FakeChatModel, services: Services
) -> None:
    token = sign_in(client, keys["cust-a"])
    cid = start(client, token)
    model.enqueue(
        answer_json("Loyal customers always get their refund approved.", ["ref-001"]), "0.12"
    )
    page = send(client, cid, token, "How long do I have to request a refund?")
    assert 'data-testid="handoff">Thanks for your patience.' in page
    assert "Loyal customers" not in page
    case = services.database.escalations.page(limit=1).items[0]
    services.desk.claim(case.id, "alice")
    services.desk.resolve(case.id, "alice", reply="You have 7 days after delivery.")
    polled = client.get(f"/chat/conversations/{cid}/messages").json()
    assert [(m["role"], m["who"]) for m in polled] == [
        ("customer", "You"),
        ("assistant", "Assistant"),
        ("agent", "Support team"),
    ]
    assert polled[1]["handoff"].startswith("Thanks for your patience.")
    assert polled[1]["paragraphs"] == []
    assert polled[2]["paragraphs"] == ["You have 7 days after delivery."]
    reloaded = client.get(f"/chat/conversations/{cid}").text
    assert 'data-testid="message-agent">' in reloaded
    assert "You have 7 days after delivery." in reloaded
    assert "alice" not in reloaded  # the agent's name stays inside


def test_another_customers_conversation_is_a_404(
    client: TestClient, keys: dict[str, Headers], services: Services
) -> None:
    theirs = client.post("/v1/conversations", json={}, headers=keys["cust-b"]).json()["id"]
    staff = services.database.conversations.create(customer_ref="console:alice").id
    token = sign_in(client, keys["cust-a"])
    for cid in (theirs, staff, "nope"):
        base = f"/chat/conversations/{cid}"
        assert client.get(base).status_code == 404
        assert client.get(f"{base}/messages").status_code == 404
        posted = client.post(f"{base}/messages", data={"text": "hi", "csrf_token": token})
        assert posted.status_code == 404
        streamed = client.post(
            f"{base}/messages",
            data={"text": "hi", "csrf_token": token},
            headers={"accept": "text/event-stream"},
        )
        assert streamed.status_code == 404
    assert services.database.conversations.get(theirs).messages == []


def test_pages_need_a_customer_session(client: TestClient) -> None:
    for path in ("/chat/conversations/x", "/chat/articles/pay-002"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/chat")
    assert client.get("/chat/conversations/x/messages").status_code == 401
    assert client.post("/chat/conversations/x/messages", follow_redirects=False).status_code == 303


def test_a_message_that_is_too_long_or_empty_is_not_sent(
    client: TestClient, keys: dict[str, Headers], services: Services
) -> None:
    token = sign_in(client, keys["cust-a"])
    cid = start(client, token)
    too_long = send(client, cid, token, "x" * 201)  # the limit of the test settings: 200
    assert "Not sent: the message is 201 characters; the limit is 200." in too_long
    assert "Not sent: the message is empty." in send(client, cid, token, "   ")
    assert services.database.conversations.get(cid).messages == []


def test_what_the_customer_wrote_is_escaped(
    client: TestClient, keys: dict[str, Headers], model: FakeChatModel
) -> None:
    token = sign_in(client, keys["cust-a"])
    cid = start(client, token)
    model.enqueue(answer_json(ANSWER, ["pay-002"]))
    page = send(client, cid, token, "<script>alert(1)</script> what does <b>Instant Pay</b> cost?")
    assert "<script>alert(1)" not in page and "<b>Instant" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- CSRF and origin --------------------------------------------------------------------------


def test_every_chat_form_carries_the_session_token_and_needs_it(
    client: TestClient, keys: dict[str, Headers], services: Services
) -> None:
    token = sign_in(client, keys["cust-a"])
    cid = start(client, token)
    for path in ("/chat", f"/chat/conversations/{cid}", "/chat/articles/ref-001"):
        page = client.get(path).text
        forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", page, re.S)
        assert forms, path
        for form in forms:
            assert f'name="csrf_token" value="{token}"' in form, (path, form[:120])
    for data in ({}, {"csrf_token": "0" * 64}):
        assert client.post("/chat/conversations", data=data).status_code == 403
        form = client.post(f"/chat/conversations/{cid}/messages", data={"text": "hi", **data})
        assert form.status_code == 403 and "out of date" in form.text
        streamed = client.post(
            f"/chat/conversations/{cid}/messages",
            data={"text": "hi", **data},
            headers={"accept": "text/event-stream"},
        )
        assert streamed.status_code == 403
    assert services.database.conversations.get(cid).messages == []


def test_another_sessions_token_does_not_fit(client: TestClient, keys: dict[str, Headers]) -> None:
    theirs = sign_in(client, keys["cust-b"])
    sign_in(client, keys["cust-a"])
    assert client.post("/chat/conversations", data={"csrf_token": theirs}).status_code == 403


@pytest.mark.parametrize(
    "path",
    ["/chat/signin", "/chat/signout", "/chat/conversations", "/chat/conversations/x/messages"],
)
def test_every_unsafe_chat_request_from_another_site_is_403(client: TestClient, path: str) -> None:
    response = client.post(path, headers={"origin": EVIL}, follow_redirects=False)
    assert response.status_code == 403
    assert "another site" in response.text


# -- articles ---------------------------------------------------------------------------------


def test_a_cited_article_reads_as_its_sections(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    sign_in(client, keys["cust-a"])
    page = client.get("/chat/articles/pay-002")
    assert page.status_code == 200
    assert '<h1 data-testid="article-title">Instant Pay for couriers</h1>' in page.text
    assert "<h2>Fees</h2>" in page.text and "<h2>Eligibility</h2>" in page.text
    assert "Each Instant Pay cash-out costs $0.85." in page.text
    assert client.get("/chat/articles/nope").status_code == 404


# -- streamed, for the page's script ----------------------------------------------------------


def test_the_pages_script_gets_the_apis_stream(
    client: TestClient, keys: dict[str, Headers], model: FakeChatModel
) -> None:
    token = sign_in(client, keys["cust-a"])
    cid = start(client, token)
    model.enqueue(answer_json(ANSWER, ["pay-002"]))
    with client.stream(
        "POST",
        f"/chat/conversations/{cid}/messages",
        data={"text": "How much does Instant Pay cost?", "csrf_token": token},
        headers={"accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response.iter_lines())
    kinds = [kind for kind, _ in stream if kind != "comment"]
    assert kinds[0] == "progress" and kinds[-1] == "done" and "handoff" not in kinds
    assert [data["text"] for kind, data in stream if kind == "sentence"] == [ANSWER]
    done = dict(stream)["done"]
    assert done["citations"] == [{"article_id": "pay-002", "title": "Instant Pay for couriers"}]
    lines = client.get(f"/chat/conversations/{cid}/messages").json()
    assert [line["id"] for line in lines] == [done["message_id"], done["reply"]["id"]]  # type: ignore[index]


def test_a_refused_stream_says_why_in_json(client: TestClient, keys: dict[str, Headers]) -> None:
    token = sign_in(client, keys["cust-a"])
    cid = start(client, token)
    response = client.post(
        f"/chat/conversations/{cid}/messages",
        data={"text": "x" * 201, "csrf_token": token},
        headers={"accept": "text/event-stream"},
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "the message is 201 characters; the limit is 200"}


# -- headers and templates --------------------------------------------------------------------


def test_chat_pages_carry_the_security_headers_and_are_not_cached(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    paths = ["/chat", "/chat/static/chat.js", "/chat/static/chat.css"]
    for path in paths:
        assert_secure_headers(client.get(path), path)
    token = sign_in(client, keys["cust-a"])
    cid = start(client, token)
    for path in ("/chat", f"/chat/conversations/{cid}", "/chat/articles/pay-002"):
        response = client.get(path)
        assert_secure_headers(response, path)
        assert response.headers["cache-control"] == "no-store", path
    assert "cache-control" not in client.get("/chat/static/chat.js").headers


def test_no_chat_template_runs_inline_script_or_style() -> None:
    for template in (HERE / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert " style=" not in text and "<style" not in text, template.name
        assert "javascript:" not in text and "|safe" not in text, template.name


def test_the_conversation_page_loads_its_script_from_the_server(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    cid = start(client, sign_in(client, keys["cust-a"]))
    page = client.get(f"/chat/conversations/{cid}").text
    assert '<script type="module" src="/chat/static/chat.js"></script>' in page
    script = client.get("/chat/static/chat.js")
    assert "javascript" in script.headers["content-type"]
    assert 'import {readEvents} from "/console/static/sse.js"' in script.text
    assert ".innerHTML" not in script.text  # text only, never markup


# -- feedback ---------------------------------------------------------------------------------


def answered(client: TestClient, keys: dict[str, Headers], model: FakeChatModel) -> tuple[str, str]:
    """A signed-in customer's conversation with one answer; (conversation, CSRF token)."""
    token = sign_in(client, keys["cust-a"])
    cid = start(client, token)
    model.enqueue(answer_json(ANSWER, ["pay-002"]))
    send(client, cid, token, "How much does Instant Pay cost?")
    return cid, token


def rate(client: TestClient, cid: str, message: str, **form: str) -> str:
    response = client.post(
        f"/chat/conversations/{cid}/messages/{message}/feedback",
        data=form,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client.get(response.headers["location"]).text


def test_thumbs_up_without_script_is_stored_with_the_reply_and_shown(
    client: TestClient, keys: dict[str, Headers], model: FakeChatModel
) -> None:
    cid, token = answered(client, keys, model)
    page = client.get(f"/chat/conversations/{cid}").text
    forms = re.findall(
        r'action="/chat/conversations/[0-9a-f]+/messages/([0-9a-f]+)/feedback"', page
    )
    reply = client.get(f"/v1/conversations/{cid}", headers=keys["cust-a"]).json()["messages"][1]
    assert forms == [reply["id"]]  # one form, on the assistant's reply only
    form = re.search(r'<form[^>]*class="rate".*?</form>', page, re.S)
    assert form and f'name="csrf_token" value="{token}"' in form.group(0)
    shown = rate(client, cid, reply["id"], rating="up", csrf_token=token)
    assert "Thank you: your feedback was saved." in shown
    assert 'aria-pressed="true" data-testid="thumbs-up"' in shown
    assert 'aria-pressed="false" data-testid="thumbs-down"' in shown
    stored = client.get(f"/v1/conversations/{cid}", headers=keys["cust-a"]).json()["messages"][1]
    assert stored["feedback"]["rating"] == "up" and stored["feedback"]["comment"] is None
    lines = client.get(f"/chat/conversations/{cid}/messages").json()
    assert [(line["rateable"], line["rating"]) for line in lines] == [(False, None), (True, "up")]


def test_thumbs_down_with_a_comment_opens_a_case(
    client: TestClient, keys: dict[str, Headers], model: FakeChatModel, services: Services
) -> None:
    cid, token = answered(client, keys, model)
    reply = client.get(f"/chat/conversations/{cid}/messages").json()[1]["id"]
    rate(client, cid, reply, rating="down", comment="  It did not say when.  ", csrf_token=token)
    case = services.database.escalations.page(limit=1).items[0]
    assert case.conversation_id == cid and case.reasons == ["customer_feedback"]
    stored = services.database.conversations.get(cid).messages[1].feedback
    assert stored is not None and (stored.rating, stored.comment) == (
        "down",
        "It did not say when.",
    )


def test_feedback_is_checked_like_the_apis(
    client: TestClient, keys: dict[str, Headers], model: FakeChatModel, services: Services
) -> None:
    cid, token = answered(client, keys, model)
    customer, reply = (
        line["id"] for line in client.get(f"/chat/conversations/{cid}/messages").json()
    )
    assert "Not rated: choose thumbs up or thumbs down." in rate(
        client, cid, reply, rating="sideways", csrf_token=token
    )
    assert "Not rated: a comment is at most 1000 characters." in rate(
        client, cid, reply, rating="down", comment="x" * 1001, csrf_token=token
    )
    assert "Not rated: message" in rate(client, cid, customer, rating="up", csrf_token=token)
    assert "Not rated: message" in rate(client, cid, "nope", rating="up", csrf_token=token)
    url = f"/chat/conversations/{cid}/messages/{reply}/feedback"
    for data in ({"rating": "up"}, {"rating": "up", "csrf_token": "0" * 64}):
        assert client.post(url, data=data).status_code == 403
    assert client.post(url, data={"rating": "up"}, headers={"origin": EVIL}).status_code == 403
    assert services.database.conversations.get(cid).messages[1].feedback is None


def test_another_customers_reply_cannot_be_rated(
    client: TestClient, keys: dict[str, Headers], model: FakeChatModel, services: Services
) -> None:
    cid, _ = answered(client, keys, model)
    reply = client.get(f"/chat/conversations/{cid}/messages").json()[1]["id"]
    client.cookies.clear()
    theirs = sign_in(client, keys["cust-b"])
    response = client.post(
        f"/chat/conversations/{cid}/messages/{reply}/feedback",
        data={"rating": "down", "csrf_token": theirs},
    )
    assert response.status_code == 404
    assert services.database.conversations.get(cid).messages[1].feedback is None
