import json

from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def test_eval_scale_prints_a_table_then_json_as_the_last_line() -> None:
    args = ["--chunks", "200", "--vectors", "synthetic", "--chroma", "memory", "--queries", "5"]
    result = runner.invoke(app, ["eval", "scale", *args])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["chunks"] == 200 and figures["vectors"] == "synthetic"
    assert any("hybrid search" in line for line in lines[:-1])


def test_eval_scale_refuses_an_unknown_store() -> None:
    result = runner.invoke(app, ["eval", "scale", "--chunks", "10", "--chroma", "pinecone"])
    assert result.exit_code == 2
