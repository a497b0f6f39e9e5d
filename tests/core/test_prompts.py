from pathlib import Path

import pytest

from core.errors import ConfigurationError
from core.prompts import PromptFields, load_prompt, parse_ref


def test_answer_prompt_renders_passages_conversation_and_question() -> None:
    prompt = load_prompt("answer@1").bind(PromptFields(business="Acme", customers="shoppers"))
    messages = prompt.render(passages="[ref-001] text", conversation="customer: hi", question="q?")
    assert messages[0].content.startswith("You are Acme's support assistant for shoppers.")
    assert [m.role for m in messages] == ["system", "user"]
    assert "[ref-001] text" in messages[1].content
    assert prompt.json_mode is True
    assert prompt.ref == "answer@1"


def test_rendering_without_a_field_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="needs"):
        load_prompt("answer@1").render(passages="p")


@pytest.mark.parametrize("ref", ["answer", "answer@v1", "@1"])
def test_malformed_references_are_rejected(ref: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_ref(ref)


def test_missing_version_is_reported_with_its_path() -> None:
    with pytest.raises(ConfigurationError, match="answer@99 not found"):
        load_prompt("answer@99")


def test_a_file_declaring_another_version_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "v2.yaml").write_text("id: x\nversion: 3\nsystem: s\nuser: u\n")
    with pytest.raises(ConfigurationError, match="declares x@3"):
        load_prompt("x@2", tmp_path)


def test_a_prompts_folder_of_ones_own_is_searched_first() -> None:
    from assistant.settings import PACKAGE_ROOT
    from core.prompts import resolve_prompt

    planted = PACKAGE_ROOT / "evals" / "bench" / "planted"
    prompt = resolve_prompt("answer@90", planted)
    assert prompt.ref == "answer@90"
    assert "citations" not in prompt.system  # the planted regression drops the instruction
    assert "citations" in resolve_prompt("answer@2", planted).system  # bundled: still found
    with pytest.raises(ConfigurationError, match="not found"):
        resolve_prompt("answer@90")


def test_a_business_field_left_unbound_is_named() -> None:
    with pytest.raises(ConfigurationError, match=r"needs \['business', 'customers'\]"):
        load_prompt("answer@2").render(passages="p", conversation="c", question="q")


def test_the_callers_values_win_over_the_bound_fields() -> None:
    fields = PromptFields(business="Acme", customers="shoppers")
    messages = (
        load_prompt("answer@2")
        .bind(fields)
        .render(passages="p", conversation="c", question="q", business="Other")
    )
    assert "You are Other's" in messages[0].content
