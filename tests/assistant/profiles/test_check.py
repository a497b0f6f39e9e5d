"""Each way a profile can be broken gives its own message, naming its file; a scaffold and the
shipped profiles pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.profiles.check import CheckReport, check_profile
from assistant.profiles.scaffold import scaffold
from core.errors import ConfigurationError
from core.profile import SAMPLE_PROFILE_DIR

ROOT = Path(__file__).resolve().parents[3]
EMANUAL = ROOT.parent / "shared" / "data" / "emanual"


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    directory = tmp_path / "acme"
    scaffold(directory, name="Acme", customers="shoppers")
    return directory


def errors(report: CheckReport) -> list[str]:
    return [p.line() for p in report.errors]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_scaffold_passes(profile: Path) -> None:
    report = check_profile(profile)
    assert report.ok, errors(report)
    assert (report.articles, report.issue_types) == (2, 2)
    assert report.profile is not None and report.profile.name == "Acme"


def test_the_sample_passes() -> None:
    report = check_profile(SAMPLE_PROFILE_DIR)
    assert report.ok, errors(report)
    assert (report.articles, report.issue_types) == (48, 13)


@pytest.mark.skipif(not EMANUAL.is_dir(), reason="../shared/data/emanual is not here")
def test_the_tv_maker_passes() -> None:
    report = check_profile(ROOT / "profiles" / "tv-maker")
    assert report.ok, errors(report)
    assert report.articles == 261


def test_a_scaffold_needs_an_empty_folder(profile: Path) -> None:
    with pytest.raises(ConfigurationError, match="not an empty folder"):
        scaffold(profile, name="Acme", customers="shoppers")


def test_a_missing_message_for_a_served_language(profile: Path) -> None:
    edit(profile / "profile.yaml", "languages: [en]", "languages: [en, fr]")
    [error] = errors(check_profile(profile))
    assert "profile.yaml: profile: Value error, languages ['fr'] are served but have no" in error
    assert "(add messages.fr)" in error


def test_unknown_fields_and_languages_are_each_named(profile: Path) -> None:
    edit(profile / "profile.yaml", "languages: [en]", "languages: [en, klingon]\ncolour: blue")
    found = errors(check_profile(profile))
    assert any("languages.1: Input should be 'en'" in e for e in found)
    assert any("colour: Extra inputs are not permitted" in e for e in found)


def test_a_bad_taxonomy(profile: Path) -> None:
    (profile / "taxonomy.yaml").write_text("issue_types:\n  - name: orders\n", encoding="utf-8")
    found = errors(check_profile(profile))
    assert any("taxonomy.yaml: taxonomy" in e and "is invalid" in e for e in found)


def test_an_article_of_an_issue_type_the_taxonomy_lacks(profile: Path) -> None:
    edit(profile / "articles" / "returns.md", "issue_type: returns", "issue_type: warranty")
    [error] = errors(check_profile(profile))
    assert "articles with an issue type the taxonomy lacks: ret-001 (warranty)" in error


def test_a_malformed_knowledge_base_file(profile: Path) -> None:
    (profile / "articles" / "broken.md").write_text("no front matter here", encoding="utf-8")
    [error] = errors(check_profile(profile))
    assert "broken.md: missing YAML front matter" in error


def test_a_malformed_jsonl_knowledge_base(profile: Path) -> None:
    (profile / "articles" / "more.jsonl").write_text('{"id": "x"}\nnot json\n', encoding="utf-8")
    [error] = errors(check_profile(profile))
    assert "more.jsonl:1: not an article" in error


def test_an_unreadable_knowledge_base(profile: Path) -> None:
    edit(profile / "profile.yaml", "knowledge_base: articles", "knowledge_base: nowhere")
    [error] = errors(check_profile(profile))
    assert "knowledge base: knowledge base path" in error and "does not exist" in error


def test_an_unknown_prompt_placeholder(profile: Path) -> None:
    edit(profile / "profile.yaml", "# prompts: prompts", "prompts: prompts")
    (profile / "prompts" / "answer").mkdir(parents=True)
    (profile / "prompts" / "answer" / "v50.yaml").write_text(
        "id: answer\nversion: 50\nsystem: You work for {business}, in a {colour} tone.\n"
        "user: '{passages} {question}'\n",
        encoding="utf-8",
    )
    [error] = errors(check_profile(profile))
    assert "v50.yaml: prompt answer@50 uses unknown placeholder(s) {colour}" in error
    assert "{business}" in error  # what it may use


def test_a_prompt_no_stage_asks(profile: Path) -> None:
    edit(profile / "profile.yaml", "# prompts: prompts", "prompts: prompts")
    (profile / "prompts" / "greeting").mkdir(parents=True)
    (profile / "prompts" / "greeting" / "v1.yaml").write_text("id: greeting\n", encoding="utf-8")
    [error] = errors(check_profile(profile))
    assert "no stage asks a prompt 'greeting'" in error


def test_priorities_must_name_known_issue_types_and_reasons(profile: Path) -> None:
    edit(profile / "priorities.yaml", "issue_types: [returns]", "issue_types: [refunds]")
    edit(profile / "priorities.yaml", "reasons: [llm_error,", "reasons: [model_on_fire,")
    found = errors(check_profile(profile))
    assert any("rule 'refunds': issue types not in the taxonomy ['refunds']" in e for e in found)
    assert any("rule 'system_failure': unknown reason codes ['model_on_fire']" in e for e in found)


def test_a_broken_compliance_policy(profile: Path) -> None:
    edit(profile / "compliance.yaml", "kind: keywords", "kind: vibes")
    [error] = errors(check_profile(profile))
    assert "compliance.yaml" in error and "internal_disclosure" in error


def test_questions_must_cite_articles_of_the_knowledge_base(profile: Path) -> None:
    edit(
        profile / "questions.jsonl", '"gold_article_ids": ["ret-001"]', '"gold_article_ids": ["x"]'
    )
    [error] = errors(check_profile(profile))
    assert "gold articles not in the knowledge base: x" in error


def test_no_profile_file(tmp_path: Path) -> None:
    [error] = errors(check_profile(tmp_path))
    assert "profile.yaml: cannot read the profile" in error


def test_a_profile_serving_no_checkable_language_is_warned_about(profile: Path) -> None:
    edit(profile / "profile.yaml", "languages: [en]", "languages: [de]")
    edit(profile / "profile.yaml", "  en:\n", "  de:\n")
    report = check_profile(profile)
    assert report.ok
    [warning] = [p.line() for p in report.problems]
    assert warning.startswith("warning:") and "every message will be handed to a person" in warning
