from __future__ import annotations

import pytest

from assistant.pipeline.decompose import questions


@pytest.mark.parametrize(
    ("message", "asked"),
    [
        (
            "How to install app and how to use universal guide?",
            ["How to install app?", "How to use universal guide?"],
        ),
        (
            "Where do I find signal information and How do I run the Connection Test?",
            ["Where do I find signal information?", "How do I run the Connection Test?"],
        ),
        (
            "How do I stop recording? And where is the program info?",
            ["How do I stop recording?", "Where is the program info?"],
        ),
        (
            "Explain how to schedule a program and also can you explain how to schedule recording?",
            ["Explain how to schedule a program?", "Can you explain how to schedule recording?"],
        ),
    ],
)
def test_a_message_asking_two_things_is_cut_where_the_second_question_starts(
    message: str, asked: list[str]
) -> None:
    assert questions(message) == asked


@pytest.mark.parametrize(
    "message",
    [
        "Can I update software through internet and through USB device?",  # one question
        "What are natural and movie mode?",
        "Can you deliver my prescription? I'm sick and can't go out",  # "can't" opens nothing
        "How do I pay and how?",  # a part too short to stand on its own
        "My order is late.",
    ],
)
def test_a_message_asking_one_thing_is_left_whole(message: str) -> None:
    assert questions(message) == [message]


def test_the_statements_before_the_first_question_lead_every_part() -> None:
    message = "A customer threatened me at the door. How do I report it, and will they find out?"
    assert questions(message) == [
        "A customer threatened me at the door. How do I report it?",
        "A customer threatened me at the door. Will they find out?",
    ]
