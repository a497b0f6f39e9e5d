import pytest

from assistant.settings import Settings
from core.errors import ConfigurationError
from evals.latency import PREVIOUS, _sides, with_lever


def test_a_lever_changes_only_its_setting_on_the_current_side() -> None:
    settings = Settings(answer_prompt="answer@6", evidence="focused")
    sides = _sides(settings, {"llm_n_batch": "128", "llm_flash_attn": "true"})
    assert sides["previous"] == settings
    assert sides["current"].llm_n_batch == 128 and sides["current"].llm_flash_attn is True
    others = {"llm_n_batch", "llm_flash_attn"}
    before, after = sides["previous"].model_dump(), sides["current"].model_dump()
    assert {k for k in before if before[k] != after[k]} == others


def test_without_a_lever_the_previous_side_is_the_path_before_issue_13() -> None:
    sides = _sides(Settings(answer_prompt="answer@6", llm_prompt_lookup=4), None)
    previous = sides["previous"]
    assert previous.answer_prompt == PREVIOUS["answer_prompt"]
    assert previous.evidence == PREVIOUS["evidence"]
    assert not previous.llm_prefix_cache and previous.llm_prompt_lookup == 0
    assert sides["current"].llm_prompt_lookup == 4


@pytest.mark.parametrize("lever", [{"llm_n_batch": "2"}, {"no_such_setting": "1"}])
def test_a_lever_that_is_no_valid_setting_is_a_configuration_error(lever: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        with_lever(Settings(), lever)
