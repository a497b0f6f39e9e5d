from core.conversation import SPEAKERS, Turn, transcript


def test_one_formatter_writes_the_roles_as_stored_or_as_speakers() -> None:
    turns = [
        Turn(role="customer", text="hi"),
        Turn(role="assistant", text="hello"),
        Turn(role="agent", text="Sam here"),
    ]
    assert transcript(turns) == "customer: hi\nassistant: hello\nagent: Sam here"
    assert transcript(turns, SPEAKERS) == "Customer: hi\nAssistant: hello\nAgent: Sam here"
