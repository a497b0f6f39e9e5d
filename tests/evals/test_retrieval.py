from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.embeddings import HashingEmbedder
from core.errors import ConfigurationError
from evals.retrieval import Turn, conversation_query, load_questions, run, split_of

ARTICLES = [
    {"id": "remote", "title": "Pairing the remote", "text": "Hold Back and Play for 3 seconds."},
    {
        "id": "wifi",
        "title": "Connecting to Wi-Fi",
        "text": "Open Network settings and pick a network.",
    },
    {"id": "sound", "title": "Sound output", "text": "Choose TV speaker or an HDMI ARC soundbar."},
]
QUESTIONS = [
    {
        "id": "q1",
        "kind": "normal",
        "question": "how to pair the remote",
        "gold_article_ids": ["remote"],
    },
    {
        "id": "q2",
        "kind": "normal",
        "question": "wifi network settings",
        "gold_article_ids": ["wifi"],
    },
    {
        "id": "q3",
        "kind": "chat",
        "conversation": [
            {"role": "user", "text": "My TV is new."},
            {"role": "assistant", "text": "Welcome! How can I help?"},
            {"role": "user", "text": "How do I use my soundbar over HDMI ARC?"},
        ],
        "gold_article_ids": ["sound"],
    },
]


def write_folder(folder: Path) -> Path:
    for name, rows in (("articles", ARTICLES), ("questions", QUESTIONS)):
        lines = [json.dumps(row) for row in rows]
        (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_run_scores_a_tiny_folder_and_prints_the_table_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_folder(tmp_path)

    result = run(folder, embedder=HashingEmbedder(), workdir=tmp_path / "work")

    assert result == {"n": 3, "recall@1": 1.0, "recall@5": 1.0, "mrr": 1.0}
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].split() == ["all", "3", "1.000", "1.000", "1.000"]
    assert [line.split()[0] for line in lines[-6:-1]] == [
        "questions",
        "chat",
        "normal",
        "conversations",
        "last-turn-only",
    ]
    assert list((tmp_path / "work").iterdir()) == []  # the fresh collection is gone


def test_a_miss_lowers_recall_and_mrr(tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    wrong = {"id": "q9", "question": "pair the remote", "gold_article_ids": ["wifi"]}
    with (folder / "questions.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(wrong) + "\n")

    result = run(folder, embedder=HashingEmbedder(), k_values=(1, 3))

    assert result["n"] == 4
    assert result["recall@1"] == 0.75
    assert 0.75 < result["mrr"] < 1.0


def test_conversation_query_is_the_products_core_issue() -> None:
    turns = [
        Turn(role="user", text="first"),
        Turn(role="assistant", text="x"),
        Turn(role="user", text="last"),
    ]

    assert conversation_query(turns) == "last x first"


def test_the_split_is_a_deterministic_partition(tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    path = folder / "questions.jsonl"

    dev, test = load_questions(path, "dev"), load_questions(path, "test")

    assert sorted(q.id for q in [*dev, *test]) == ["q1", "q2", "q3"]
    assert all(split_of(q.id) == "dev" for q in dev)
    assert [split_of(f"q{n}") for n in range(200)].count("dev") in range(40, 80)
    with pytest.raises(ConfigurationError, match="split"):
        load_questions(path, "train")


def test_bad_input_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        run(tmp_path, embedder=HashingEmbedder())
    path = tmp_path / "questions.jsonl"
    path.write_text('{"id": "q1", "gold_article_ids": ["a"]}\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"questions.jsonl:1"):
        load_questions(path)
