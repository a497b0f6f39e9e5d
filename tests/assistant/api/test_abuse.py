"""The API tried from the wrong side: a key that shares another's name, a key revoking itself,
bodies too large to read, key guessing, message floods, and messages racing for one seq."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from assistant.api.ratelimit import RateLimits, SlidingWindow
from assistant.app import create_app
from assistant.settings import Settings
from assistant.storage import Database
from assistant.storage.keys import Role
from assistant.storage.tables import MessageRow
from assistant.wiring import Services
from tests.assistant.api.conftest import Headers
from tests.assistant.api.test_access import open_conversation

# -- ownership by key id ----------------------------------------------------------------------


def test_a_second_key_with_the_same_name_reads_none_of_the_first_keys_conversations(
    client: TestClient, keys: dict[str, Headers], database: Database
) -> None:
    mine = open_conversation(client, keys["cust-a"])
    twin = {"Authorization": f"Bearer {database.keys.create('cust-a', Role.CUSTOMER).secret}"}
    assert client.get(f"/v1/conversations/{mine}", headers=twin).status_code == 404
    posted = client.post(f"/v1/conversations/{mine}/messages", json={"text": "hi"}, headers=twin)
    assert posted.status_code == 404
    assert client.get(f"/v1/conversations/{mine}", headers=keys["cust-a"]).status_code == 200
    theirs = open_conversation(client, twin)
    assert client.get(f"/v1/conversations/{theirs}", headers=twin).status_code == 200
    assert client.get(f"/v1/conversations/{theirs}", headers=keys["cust-a"]).status_code == 404
    assert database.conversations.get(mine).owner == database.conversations.get(theirs).owner


def test_a_conversation_with_no_owning_key_is_for_staff_only(
    client: TestClient, keys: dict[str, Headers], database: Database
) -> None:
    orphan = database.conversations.create(owner="cust-a")  # a name, but no key id
    assert client.get(f"/v1/conversations/{orphan.id}", headers=keys["cust-a"]).status_code == 404
    assert client.get(f"/v1/conversations/{orphan.id}", headers=keys["alice"]).status_code == 200


# -- revoking keys ----------------------------------------------------------------------------


def test_a_key_cannot_revoke_itself_by_id_or_by_name(
    client: TestClient, keys: dict[str, Headers], database: Database
) -> None:
    root = next(k for k in database.keys.all() if k.name == "root")
    for target in (root.id, "root"):
        response = client.delete(f"/v1/admin/keys/{target}", headers=keys["root"])
        assert response.status_code == 409, response.text
        assert "cannot revoke itself" in response.json()["detail"]
    # a name shared with another admin key is refused whole: nothing is revoked
    other = database.keys.create("root", Role.ADMIN)
    assert client.delete("/v1/admin/keys/root", headers=keys["root"]).status_code == 409
    assert database.keys.authenticate(other.secret) is not None
    assert client.get("/v1/admin/keys", headers=keys["root"]).status_code == 200
    # another admin may revoke it; then the key stops working
    by_other = {"Authorization": f"Bearer {other.secret}"}
    assert client.delete(f"/v1/admin/keys/{root.id}", headers=by_other).status_code == 200
    assert client.get("/v1/admin/keys", headers=keys["root"]).status_code == 401


def test_the_last_active_admin_key_is_never_revoked(database: Database) -> None:
    from core.errors import ConflictError

    only = database.keys.create("boss", Role.ADMIN)
    with pytest.raises(ConflictError, match="last active admin key"):
        database.keys.revoke("boss")
    assert database.keys.authenticate(only.secret) is not None
    second = database.keys.create("deputy", Role.ADMIN)
    assert [k.name for k in database.keys.revoke("boss")] == ["boss"]
    with pytest.raises(ConflictError, match="last active admin key"):
        database.keys.revoke(second.key.id)
    agent = database.keys.create("alice", Role.AGENT)
    assert database.keys.revoke(agent.key.id)[0].name == "alice"


# -- body size --------------------------------------------------------------------------------


@pytest.fixture
def small_bodies(services: Services, keys: dict[str, Headers]) -> Iterator[TestClient]:
    settings = Settings(max_body_bytes=2048)
    with TestClient(create_app(services=services, settings=settings), headers=keys["cust-a"]) as c:
        yield c


def test_a_body_over_the_cap_is_413_before_it_is_read(
    small_bodies: TestClient, database: Database, keys: dict[str, Headers]
) -> None:
    big = {"customer_ref": "x" * 3000}
    response = small_bodies.post("/v1/conversations", json=big)
    assert response.status_code == 413
    assert "limit of 2048 bytes" in response.json()["detail"] or "2048" in response.json()["detail"]
    # no key, any route, any method: still 413, and nothing ran
    anonymous = small_bodies.request(
        "GET", "/v1/admin/keys", content=b"x" * 5000, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 413
    login = small_bodies.post("/console/login", data={"key": "x" * 5000})
    assert login.status_code == 413
    with database.session() as session:
        assert session.query(MessageRow).count() == 0
    assert small_bodies.post("/v1/conversations", json={"customer_ref": "ok"}).status_code == 201


def test_a_chunked_body_is_cut_off_at_the_cap(small_bodies: TestClient) -> None:
    cid = open_conversation(small_bodies, {})

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    response = small_bodies.post(
        f"/v1/conversations/{cid}/messages",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert "2048 bytes" in response.json()["detail"]
    assert small_bodies.get(f"/v1/conversations/{cid}").json()["messages"] == []


# -- rate limits ------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(services: Services, keys: dict[str, Headers], clock: Clock) -> Iterator[TestClient]:
    settings = Settings(
        auth_failures_per_address=4,
        auth_failures_per_prefix=2,
        auth_failure_window_s=60,
        messages_per_conversation=2,
        message_window_s=30,
    )
    app = create_app(services=services, settings=settings)
    app.state.rate_limits = RateLimits(settings, clock=clock)
    with TestClient(app, headers=keys["cust-a"]) as c:
        yield c


def bearer(secret: str) -> Headers:
    return {"Authorization": f"Bearer {secret}"}


def test_guessing_keys_from_one_address_is_stopped_even_for_a_right_guess(
    limited: TestClient, keys: dict[str, Headers], clock: Clock
) -> None:
    for n in range(4):
        assert (
            limited.get("/v1/escalations", headers=bearer(f"guess-{n}-xxxxxx")).status_code == 401
        )
    blocked = limited.get("/v1/escalations", headers=bearer("guess-9-xxxxxx"))
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert "from this address" in blocked.json()["detail"]
    # a right key looks the same while the address is blocked
    assert limited.get("/v1/escalations", headers=keys["alice"]).status_code == 429
    login = limited.post("/console/login", data={"key": "tth_nope"})
    assert login.status_code == 429 and "retry-after" in login.headers
    clock.now += 61
    assert limited.get("/v1/escalations", headers=keys["alice"]).status_code == 200
    # requests without any key are refused (401) but are no attempt: never counted
    for _ in range(10):
        assert limited.get("/v1/escalations", headers={"Authorization": ""}).status_code == 401
    assert limited.get("/v1/escalations", headers=keys["alice"]).status_code == 200


def test_guessing_one_keys_secret_is_stopped_at_its_prefix(
    limited: TestClient, keys: dict[str, Headers]
) -> None:
    real = keys["alice"]["Authorization"].removeprefix("Bearer ")
    prefix = real[:10]
    for n in range(2):
        assert (
            limited.get("/v1/escalations", headers=bearer(f"{prefix}wrong{n}")).status_code == 401
        )
    blocked = limited.get("/v1/escalations", headers=bearer(real))
    assert blocked.status_code == 429
    assert "with this key prefix" in blocked.json()["detail"]
    # another key's prefix is not blocked
    assert limited.get("/v1/escalations", headers=keys["bob"]).status_code == 200


def test_a_conversation_takes_only_so_many_messages_in_a_window(
    limited: TestClient, clock: Clock
) -> None:
    cid = open_conversation(limited, {})
    other = open_conversation(limited, {})
    for _ in range(2):
        assert (
            limited.post(f"/v1/conversations/{cid}/messages", json={"text": "hi"}).status_code
            == 200
        )
    flood = limited.post(f"/v1/conversations/{cid}/messages", json={"text": "hi"})
    assert flood.status_code == 429
    assert 1 <= int(flood.headers["retry-after"]) <= 30
    assert "too many messages" in flood.json()["detail"]
    assert len(limited.get(f"/v1/conversations/{cid}").json()["messages"]) == 4  # nothing lost
    assert (
        limited.post(f"/v1/conversations/{other}/messages", json={"text": "hi"}).status_code == 200
    )
    clock.now += 31
    assert limited.post(f"/v1/conversations/{cid}/messages", json={"text": "hi"}).status_code == 200


def test_a_sliding_window_counts_what_it_is_told() -> None:
    clock = Clock()
    window = SlidingWindow(2, 10.0, clock=clock, max_keys=3)
    assert window.take("a") is None and window.take("a") is None
    assert window.take("a") == pytest.approx(10.0)
    clock.now += 4
    assert window.retry_after("a") == pytest.approx(6.0)
    clock.now += 6
    assert window.retry_after("a") is None
    for key in "bcdef":  # more keys than it keeps: the idle ones are forgotten
        window.hit(key)
    assert len(window._events) <= 3
    assert SlidingWindow(0, 1.0).take("x") is None  # 0: no limit


# -- seq --------------------------------------------------------------------------------------


def test_parallel_messages_in_one_conversation_get_distinct_seqs(
    client: TestClient, database: Database
) -> None:
    cid = open_conversation(client, {})

    def post(n: int) -> int:
        return client.post(
            f"/v1/conversations/{cid}/messages", json={"text": f"refund question {n}"}
        ).status_code

    places = client.app.state.services.workers.capacity  # as many as are taken at once
    with ThreadPoolExecutor(max_workers=places) as pool:
        assert list(pool.map(post, range(places))) == [200] * places
    with database.session() as session:
        seqs = [r.seq for r in session.query(MessageRow).filter(MessageRow.conversation_id == cid)]
    assert sorted(seqs) == list(range(1, 2 * places + 1))
