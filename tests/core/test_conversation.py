from core.conversation import SPEAKERS, Turn, before_latest, transcript


def test_one_formatter_writes_the_roles_as_stored_or_as_speakers() -> None:
    turns = [
        Turn(role="customer", text="hi"),
        Turn(role="assistant", text="hello"),
        Turn(role="agent", text="Sam here"),
    ]
    assert transcript(turns) == "customer: hi\nassistant: hello\nagent: Sam here"
    assert transcript(turns, SPEAKERS) == "Customer: hi\nAssistant: hello\nAgent: Sam here"


def test_before_latest_splits_off_the_customers_last_message() -> None:
    turns = [
        Turn(role="customer", text="Refunds?"),
        Turn(role="assistant", text="Within 7 days."),
        Turn(role="customer", text="And how?"),
        Turn(role="assistant", text="One moment."),
    ]
    assert before_latest(turns) == (turns[:2], "And how?")
    assert before_latest(turns[1:2]) == (turns[1:2], "")
