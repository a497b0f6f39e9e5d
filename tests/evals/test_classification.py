import json
from pathlib import Path

import pytest

from core.embeddings import HashingEmbedder
from core.errors import ConfigurationError
from evals import classification


def write_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    path.write_text("text,category\n" + "".join(f'"{t}",{c}\n' for t, c in rows))


def test_trains_on_train_and_reports_accuracy_on_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_csv(
        tmp_path / "train.csv",
        [
            ("card arrived broken", "card"),
            ("my card is damaged", "card"),
            ("new card please", "card"),
            ("transfer failed", "transfer"),
            ("my transfer is pending", "transfer"),
            ("send money abroad", "transfer"),
        ],
    )
    write_csv(tmp_path / "test.csv", [("damaged card", "card"), ("pending transfer", "transfer")])
    figures = classification.run(tmp_path, embedder=HashingEmbedder())
    assert figures["n"] == 2
    assert figures["accuracy"] == 1.0
    assert figures["train_seconds"] >= 0
    assert figures["train_cpu_seconds"] >= 0
    out = capsys.readouterr().out
    assert "accuracy" in out
    json.dumps(figures)


def test_a_missing_or_wrong_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        classification.run(tmp_path, embedder=HashingEmbedder())
    (tmp_path / "train.csv").write_text("a,b\n1,2\n")
    (tmp_path / "test.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ConfigurationError, match="text,category"):
        classification.run(tmp_path, embedder=HashingEmbedder())
