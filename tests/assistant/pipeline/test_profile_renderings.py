"""The sample profile renders every prompt and message byte for byte as the code did before
business profiles (tests/fixtures/prompts/, captured at commit daa1d85): the benchmark's
response cache is keyed on the prompt text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.pipeline.assistant import business_prompt, resolve_guards
from assistant.settings import Settings
from core.conversation import Turn, transcript
from core.languages import Language
from core.llm.base import ChatMessage
from core.profile import sample_profile
from core.prompts import PROMPTS_DIR, load_prompt
from guardrails.conditions import ConditionWords
from knowledge_base.articles import Chunk, Passage, format_passages

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prompts"
PLANTED = Path(__file__).resolve().parents[3] / "evals" / "bench" / "planted"

# The inputs the fixtures were rendered with (tests/fixtures/prompts/capture_daa1d85.py).
PASSAGES = [
    Passage(
        chunk=Chunk(
            id="pay-002#0",
            article_id="pay-002",
            title="Instant Pay",
            section="Fees",
            text="Each Instant Pay cash-out costs $0.85. You can cash out up to 5 times per day.",
            issue_type="payments_and_pay",
        ),
        score=1.0,
    ),
    Passage(
        chunk=Chunk(
            id="ref-001#0",
            article_id="ref-001",
            title="Refund deadlines",
            section="",
            text="Refunds must be requested within 7 days of delivery.",
            issue_type="refunds",
        ),
        score=0.5,
    ),
]
TURNS = [
    Turn(role="customer", text="I cashed out twice today."),
    Turn(role="assistant", text="Thanks, what would you like to know?"),
    Turn(role="customer", text="How much does Instant Pay cost each time?"),
]


def dump(messages: Sequence[ChatMessage]) -> str:
    return "".join(f"<<{m.role}>>\n{m.content}\n" for m in messages)


def rendered_prompts() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*@*.txt"))


def test_every_bundled_prompt_version_has_a_rendering() -> None:
    bundled = sorted(f"{p.parent.name}@{p.stem[1:]}" for p in PROMPTS_DIR.glob("*/v*.yaml"))
    assert sorted(set(rendered_prompts()) - {"answer@90"}) == bundled


def test_no_prompt_names_the_sample_business_itself() -> None:
    """A business is named through {business}: a prompt that wrote "Hoppa" would say it to
    every other business's customers."""
    for path in [*PROMPTS_DIR.glob("*/v*.yaml"), *PLANTED.glob("*/v*.yaml")]:
        prompt = load_prompt(f"{path.parent.name}@{path.stem[1:]}", path.parents[1])
        assert "Hoppa" not in prompt.system + prompt.user, path


@pytest.mark.parametrize("ref", rendered_prompts())
def test_the_sample_profile_renders_each_prompt_as_before(ref: str) -> None:
    settings = Settings(prompts_dir=PLANTED if ref == "answer@90" else None)
    profile = sample_profile()
    guards = resolve_guards(settings, profile)
    values = {
        "passages": format_passages(PASSAGES),
        "conversation": transcript(TURNS),
        "question": "How much does Instant Pay cost each time?",
        "message": TURNS[-1].text,
        "earlier": "\n" + transcript(TURNS[:-1]),
        "answer": "Each Instant Pay cash-out costs $0.85.",
        "rubric": guards.policy.rubric_text(),
        "reference": "Each cash-out costs $0.85.",
    }
    prompt = business_prompt(ref, settings, profile)
    before = (FIXTURES / f"{ref}.txt").read_text(encoding="utf-8")
    assert dump(prompt.render(**values)) == before


def test_the_sample_profile_gives_the_same_messages_as_before() -> None:
    messages = sample_profile().messages_for(Language.EN)
    assert sample_profile().messages_for(None) == messages
    now = (
        f"<<handoff>>\n{messages.handoff}\n<<decline>>\n{messages.decline}\n"
        f"<<busy>>\n{messages.busy_text(in_flight=5, retry_after=3)}\n"
    )
    assert now == (FIXTURES / "messages.txt").read_text(encoding="utf-8")


def test_the_sample_brings_hoppas_words_to_the_condition_check() -> None:
    words = resolve_guards(Settings(), sample_profile()).words
    assert words == ConditionWords(names=frozenset({"hoppa"}), scopes=("hoppa pro", "pro couriers"))
