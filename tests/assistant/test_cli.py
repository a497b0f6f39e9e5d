import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import assistant.embeddings
from assistant.cli import app
from assistant.embeddings import HashingEmbedder

runner = CliRunner()


@pytest.fixture(autouse=True)
def hashing_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    import evals.classification
    import evals.retrieval

    for module in (assistant.embeddings, evals.classification, evals.retrieval):
        monkeypatch.setattr(module, "MiniLMEmbedder", HashingEmbedder)


def test_eval_classify_prints_a_table_then_json_as_the_last_line(tmp_path: Path) -> None:
    rows = "text,category\n" + "".join(
        f"{word} card problem {n},card\n{word} transfer issue {n},transfer\n"
        for n, word in enumerate(["lost", "broken", "late", "stuck"])
    )
    (tmp_path / "train.csv").write_text(rows)
    (tmp_path / "test.csv").write_text(
        "text,category\ncard problem,card\ntransfer issue,transfer\n"
    )
    result = runner.invoke(app, ["eval", "classify", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["n"] == 2
    assert figures["accuracy"] == 1.0
    assert any("accuracy" in line for line in lines[:-1])


def test_a_missing_folder_is_a_clear_error_with_exit_code_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "retrieval", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_ingest_reports_added_then_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "a-1.md").write_text(
        "---\nid: a-1\ntitle: Refunds\nissue_type: refunds\n---\nWithin 7 days.\n"
    )
    monkeypatch.setenv("TETHER_DATA_DIR", str(tmp_path / "data"))
    from assistant.settings import get_settings

    get_settings.cache_clear()
    try:
        first = runner.invoke(app, ["ingest", str(kb)])
        second = runner.invoke(app, ["ingest", str(kb)])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert "1 added" in first.output
    assert "1 unchanged" in second.output
    assert "0 chunks written" in second.output
