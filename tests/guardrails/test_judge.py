from __future__ import annotations

import json

import pytest

from core.errors import LLMError
from core.llm.fake import FakeChatModel
from core.prompts import load_prompt
from guardrails.judge import JudgeOutputError, judge_answer, parse_verdict
from guardrails.verdict import JudgeVerdict
from tests.conftest import judge_json, make_passage

PASSAGES = [
    make_passage(
        "ref-001",
        "Refunds must be requested within 7 days of delivery.",
        title="Refund deadlines",
        section="Deadlines",
        issue_type="refunds",
        score=0.9,
    )
]


def judge(model: FakeChatModel) -> JudgeVerdict:
    return judge_answer(
        model,
        conversation="Customer: can I still get a refund?",
        passages=PASSAGES,
        answer="You can request a refund within 30 days.",
        prompt=load_prompt("judge@1"),
    )


def test_prompt_file_declares_its_fields_and_json_mode() -> None:
    prompt = load_prompt("judge@1")
    assert prompt.fields == {"conversation", "passages", "answer"}
    assert prompt.json_mode
    assert '{{"grounding": {{"rationale": "...", "ok": <true or false>}}' in prompt.user


def test_the_judge_sees_conversation_passages_and_answer() -> None:
    model = FakeChatModel().enqueue(judge_json())
    judge(model)
    (messages,) = model.calls
    user = messages[-1].content
    assert "Customer: can I still get a refund?" in user
    assert "[ref-001] Refund deadlines > Deadlines\nRefunds must be requested within 7 days" in user
    assert "You can request a refund within 30 days." in user
    assert messages[0].role == "system"


def test_a_clean_reply_becomes_a_verdict() -> None:
    model = FakeChatModel().enqueue(judge_json(grounding=False))
    verdict = judge(model)
    assert not verdict.grounding.ok
    assert verdict.grounding.rationale == "checked against passages"
    assert verdict.reasons == ["ungrounded"]


def test_reply_wrapped_in_prose_and_fences_with_stringy_booleans_is_read() -> None:
    reply = (
        "Here is my review:\n```json\n"
        '{"Grounding": {"rationale": "30 days is not in the passage", "ok": "no"},'
        ' "coherence": {"rationale": "clear", "ok": "Yes"}, "compliance": true}\n```\nDone {x}'
    )
    verdict = parse_verdict(reply)
    assert verdict is not None
    assert (verdict.grounding.ok, verdict.coherence.ok, verdict.compliance.ok) == (
        False,
        True,
        True,
    )
    assert verdict.grounding.rationale == "30 days is not in the passage"


@pytest.mark.parametrize(
    "reply",
    [
        "I think the answer is fine.",
        '{"grounding": {"ok": true}, "coherence": {"ok": true}}',
        '{"grounding": {"ok": "maybe"}, "coherence": {"ok": true}, "compliance": {"ok": true}}',
        '{"grounding": {"rationale": "fine"}, "coherence": true, "compliance": true}',
        '{"grounding": {"ok": true}, "coherence"',
        '["grounding", "coherence", "compliance"]',
    ],
)
def test_replies_without_a_full_verdict_are_malformed(reply: str) -> None:
    assert parse_verdict(reply) is None


def test_malformed_reply_is_retried_once_with_the_reply_shown_back() -> None:
    model = FakeChatModel().enqueue("Looks good to me!", judge_json(coherence=False))
    verdict = judge(model)
    assert not verdict.coherence.ok
    first, second = model.calls
    assert second[: len(first)] == first
    assert [m.role for m in second[len(first) :]] == ["assistant", "user"]
    assert second[len(first)].content == "Looks good to me!"
    assert "JSON" in second[-1].content


def test_malformed_twice_raises_an_llm_error() -> None:
    model = FakeChatModel().enqueue("nope", '{"grounding": 1}')
    with pytest.raises(JudgeOutputError) as raised:
        judge(model)
    assert isinstance(raised.value, LLMError)
    assert len(model.calls) == 2


def test_an_outage_is_not_retried() -> None:
    model = FakeChatModel().enqueue(LLMError("connection refused"), judge_json())
    with pytest.raises(LLMError, match="connection refused"):
        judge(model)
    assert len(model.calls) == 1


def test_rationale_first_order_is_accepted() -> None:
    reply = json.dumps(
        {k: {"rationale": "r", "ok": True} for k in ("grounding", "coherence", "compliance")}
    )
    verdict = parse_verdict(reply)
    assert verdict is not None and verdict.reasons == []
