import pytest

from assistant.settings import Settings
from core.errors import ConfigurationError
from evals.latency import PREVIOUS, _ratios, _sides, with_lever


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


def test_the_customers_at_once_are_compared_with_the_same_on_the_previous_side() -> None:
    figures = {
        "previous_full_p50_s": 10.0,
        "concurrent_first_sentence_p50_s": 6.0,
        "previous_concurrent_first_sentence_p50_s": 12.0,
        "concurrent_full_p50_s": 8.0,
        "previous_concurrent_full_p50_s": 10.0,
    }
    _ratios(figures)
    assert figures["concurrent_vs_previous_concurrent_first_sentence_p50_ratio"] == 0.5
    assert figures["concurrent_vs_previous_concurrent_full_p50_ratio"] == 0.8
    assert figures["concurrent_first_sentence_p50_ratio"] == 0.6  # to the single previous reply
    # nothing to compare it with
    assert "concurrent_vs_previous_concurrent_first_sentence_p95_ratio" not in figures
