from __future__ import annotations

import pytest

from guardrails.relevance import asked_action, relevance


@pytest.mark.parametrize(
    ("question", "action"),
    [
        ("How can I open email?", "open"),
        ("How do I remove an email account?", "remove"),
        ("How do I turn on subtitles?", "on"),
        ("Can I connect my phone to the TV?", "connect"),
        ("What is the warranty period?", None),  # not a how-to question
        ("How do I open and close the app?", None),  # two kinds: no single action asked
    ],
)
def test_the_action_a_how_to_question_asks_for(question: str, action: str | None) -> None:
    assert asked_action(question) == action


def test_an_answer_about_another_thing_shares_few_of_the_questions_words() -> None:
    on_topic = relevance(
        "How can I change the picture mode?",
        "Open Settings > Picture > Picture Mode and choose a mode.",
        ["To change the picture mode, open Settings > Picture > Picture Mode."],
    )
    off_topic = relevance(
        "How can I change the picture mode?",
        "Press the Volume button to change the volume.",
        ["Press the Volume button on the remote to change the volume."],
    )
    assert on_topic.coverage == 1.0 and on_topic.missing == []
    assert off_topic.coverage < on_topic.coverage
    assert "pictur" in off_topic.missing


def test_naming_only_the_opposite_action_is_a_conflict() -> None:
    removing = relevance(
        "How do I add an email account?",
        "To remove an email account, select it and tap Remove.",
        ["Select the account and tap Remove to delete it."],
    )
    adding = relevance(
        "How do I add an email account?",
        "Tap Add account and enter your email address.",
        ["To add an account, tap Add account."],
    )
    assert removing.asked_action == "add" and removing.action_conflict
    assert not adding.action_conflict
