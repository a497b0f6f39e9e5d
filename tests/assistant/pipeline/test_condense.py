from assistant.pipeline.condense import core_issue, leans_on_context
from core.conversation import Turn


def test_single_message_is_its_own_core_issue() -> None:
    assert core_issue([Turn(role="customer", text=" my refund is late ")]) == "my refund is late"


def test_a_standalone_follow_up_stands_alone() -> None:
    turns = [
        Turn(role="customer", text="how do I reset my password"),
        Turn(role="assistant", text="Tap Forgot password."),
        Turn(
            role="customer",
            text="Separately, how many times per day can couriers cash out earnings?",
        ),
    ]
    assert core_issue(turns) == turns[-1].text


def test_a_follow_up_that_leans_on_context_brings_the_previous_turns() -> None:
    turns = [
        Turn(role="customer", text="can I get my earnings early?"),
        Turn(role="assistant", text="Yes, with Instant Pay from Earnings > Instant Pay."),
        Turn(role="customer", text="how much does it cost"),
    ]
    query = core_issue(turns)
    assert query.startswith("how much does it cost")
    assert "Instant Pay" in query
    assert "earnings early" in query


def test_anaphora_detection() -> None:
    assert leans_on_context("and how long does that take?")
    assert not leans_on_context("How long does a refund to my card take after it is approved?")


def test_no_customer_turn_gives_an_empty_query() -> None:
    assert core_issue([Turn(role="assistant", text="Hello")]) == ""
