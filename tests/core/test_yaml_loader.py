"""The C-parsed YAML gives what ``yaml.safe_load`` gives, and refuses what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core import yaml_loader

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "knowledge_base", "guardrails", "assistant", "evals", "profiles")


def test_every_yaml_file_of_the_project_reads_as_with_the_pure_python_parser() -> None:
    paths = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.yaml"))
    assert len(paths) > 20
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert yaml_loader.safe_load(text) == yaml.safe_load(text), path


def test_the_implicit_types_are_yaml_1_1s_as_before() -> None:
    text = "a: yes\nb: 0o17\nc: 1_000\nd: 2026-12-02\ne: ~\nf: 1e3\ng: '7'\nh: .inf\n"
    assert yaml_loader.safe_load(text) == yaml.safe_load(text)


def test_a_text_that_is_no_yaml_is_a_yaml_error() -> None:
    with pytest.raises(yaml.YAMLError):
        yaml_loader.safe_load("a: [1, 2\nb: c")


def test_python_tags_are_refused_like_safe_load() -> None:
    with pytest.raises(yaml.YAMLError):
        yaml_loader.safe_load("!!python/object/apply:os.system ['true']")
