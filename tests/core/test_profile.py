from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.errors import ConfigurationError
from core.languages import BUILTIN_HANDOFF, Language
from core.profile import SAMPLE_PROFILE_DIR, load_profile, sample_profile

MESSAGES = {"handoff": "A person will reply.", "decline": "Only TVs here.", "busy": "Busy."}


def write(directory: Path, **fields: object) -> Path:
    profile = {
        "name": "Acme",
        "customers": "shoppers",
        "languages": ["en"],
        "messages": {"en": MESSAGES},
        "knowledge_base": "articles",
        "taxonomy": "taxonomy.yaml",
        "priorities": "priorities.yaml",
        "compliance_policy": "compliance.yaml",
        **fields,
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "profile.yaml").write_text(yaml.safe_dump(profile), encoding="utf-8")
    return directory


def test_the_sample_is_a_profile_whose_paths_are_its_files() -> None:
    profile = sample_profile()
    assert (profile.name, profile.languages) == ("Hoppa", [Language.EN])
    assert profile.knowledge_base == SAMPLE_PROFILE_DIR / "articles"
    for path in (profile.taxonomy, profile.priorities, profile.compliance_policy):
        assert path.is_file()
    assert profile.prompt_fields().business == "Hoppa"


def test_paths_are_relative_to_the_profile(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path / "acme", prompts="my-prompts"))
    assert profile.taxonomy == (tmp_path / "acme" / "taxonomy.yaml").resolve()
    assert profile.prompts == (tmp_path / "acme" / "my-prompts").resolve()
    assert profile.root == (tmp_path / "acme").resolve()


def test_a_served_language_needs_its_messages(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"languages \['de'\] are served but have no"):
        load_profile(write(tmp_path, languages=["en", "de"]))


def test_every_wrong_field_is_named_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_profile(write(tmp_path, name="", languages=["xx"], colour="blue"))
    message = str(caught.value)
    assert "name: String should have at least 1 character" in message
    assert "languages.0: Input should be 'en'" in message
    assert "colour: Extra inputs are not permitted" in message


def test_a_busy_message_may_only_use_its_own_fields(tmp_path: Path) -> None:
    busy = {**MESSAGES, "busy": "{in_flight} ahead, wait {seconds} s"}
    with pytest.raises(ConfigurationError, match=r"unknown placeholder\(s\) \['seconds'\]"):
        load_profile(write(tmp_path, messages={"en": busy}))
    fine = {**MESSAGES, "busy": "{in_flight} ahead, wait {retry_after} s"}
    messages = load_profile(write(tmp_path, messages={"en": fine})).messages_for(Language.EN)
    assert messages.busy_text(in_flight=3, retry_after=9) == "3 ahead, wait 9 s"


def test_a_missing_or_broken_profile_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the profile"):
        load_profile(tmp_path / "nowhere")
    (tmp_path / "profile.yaml").write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_profile(tmp_path)


def test_messages_in_a_language_it_has_none_for_hand_over_in_that_language() -> None:
    profile = sample_profile()
    assert profile.messages_for(Language.DE).handoff.startswith("Danke für Ihre Geduld.")
    italian = profile.messages_for(Language.IT)
    assert italian.handoff == BUILTIN_HANDOFF[Language.IT]
    assert italian.decline == profile.messages_for(Language.EN).decline  # the default's
    assert profile.messages_for(None) == profile.messages_for(Language.EN)
