from pathlib import Path

import pytest

from assistant.settings import SAMPLE_KB
from core.cases import BenchmarkCase, case_id_for, load_cases, write_cases
from core.errors import ConfigurationError


def test_the_sample_questions_load_as_benchmark_cases() -> None:
    cases = load_cases(SAMPLE_KB / "questions.jsonl")
    assert len(cases) >= 40
    assert {c.expect for c in cases} <= {"answer", "escalate", "not_escalate"}
    multi = [c for c in cases if c.conversation]
    assert multi
    assert all(c.turns for c in cases)


def test_cases_round_trip_through_jsonl_and_yaml(tmp_path: Path) -> None:
    cases = [
        BenchmarkCase(id="a", question="refund?", gold_article_ids=["ref-001"]),
        BenchmarkCase(
            id=case_id_for("0123456789abcdef0123"),
            conversation=[{"role": "customer", "text": "hi"}, {"role": "assistant", "text": "yo"}],
            expect="escalate",
            tags=["regression"],
        ),
    ]
    assert write_cases(cases, tmp_path / "c.jsonl") == 2
    assert load_cases(tmp_path / "c.jsonl") == cases
    (tmp_path / "c.yaml").write_text("- {id: y, question: 'where is it?', expect: not_escalate}\n")
    assert load_cases(tmp_path / "c.yaml")[0].expect == "not_escalate"


@pytest.mark.parametrize(
    "line",
    [
        '{"id": "x"}',
        '{"id": "x", "question": "q", "expect": "maybe"}',
        '{"id": "x", "conversation": [{"role": "bot", "text": "hi"}]}',
        '{"id": "x", "question": ',
    ],
)
def test_bad_cases_name_the_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "question": "q"}\n' + line + "\n")
    with pytest.raises(ConfigurationError, match=r"bad.jsonl:2"):
        load_cases(path)
