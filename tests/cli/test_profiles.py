from pathlib import Path

from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def test_init_writes_a_profile_that_check_passes(tmp_path: Path) -> None:
    directory = tmp_path / "acme"
    made = runner.invoke(app, ["init", str(directory), "--name", "Acme", "--customers", "shoppers"])
    assert made.exit_code == 0, made.output
    assert f"wrote {directory / 'profile.yaml'}" in made.output
    assert "ok: Acme" in made.output
    checked = runner.invoke(app, ["check", str(directory)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith(f"ok: Acme ({directory}): 2 articles, 2 issue types")


def test_check_lists_the_errors_and_exits_non_zero(tmp_path: Path) -> None:
    directory = tmp_path / "acme"
    assert runner.invoke(app, ["init", str(directory)]).exit_code == 0
    (directory / "taxonomy.yaml").write_text("issue_types: []\n", encoding="utf-8")
    checked = runner.invoke(app, ["check", str(directory)])
    assert checked.exit_code == 1
    assert "error: " in checked.output and "taxonomy.yaml" in checked.output
    assert "1 error(s)" in checked.output


def test_init_refuses_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    refused = runner.invoke(app, ["init", str(tmp_path)])
    assert refused.exit_code == 2
    assert "not an empty folder" in refused.output
