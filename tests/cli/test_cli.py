import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from core.embeddings import HashingEmbedder

runner = CliRunner()


@pytest.fixture(autouse=True)
def hashing_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.wiring
    import evals.classification
    import evals.retrieval

    for module in (assistant.wiring, evals.classification, evals.retrieval):
        monkeypatch.setattr(module, "build_embedder", HashingEmbedder)


@pytest.fixture
def classify_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two issue types to train and test on; ``eval classify`` sets OMP_WAIT_POLICY in this
    process, so the variable is registered with monkeypatch (set, then deleted) to be undone."""
    monkeypatch.setenv("OMP_WAIT_POLICY", "")
    monkeypatch.delenv("OMP_WAIT_POLICY")
    rows = "text,category\n" + "".join(
        f"{word} card problem {n},card\n{word} transfer issue {n},transfer\n"
        for n, word in enumerate(["lost", "broken", "late", "stuck"])
    )
    (tmp_path / "train.csv").write_text(rows)
    (tmp_path / "test.csv").write_text(
        "text,category\ncard problem,card\ntransfer issue,transfer\n"
    )
    return tmp_path


def test_eval_classify_prints_a_table_then_json_as_the_last_line(classify_folder: Path) -> None:
    result = runner.invoke(app, ["eval", "classify", str(classify_folder)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["n"] == 2
    assert figures["accuracy"] == 1.0
    assert any("accuracy" in line for line in lines[:-1])


def test_eval_classify_lets_waiting_openmp_threads_sleep(classify_folder: Path) -> None:
    result = runner.invoke(app, ["eval", "classify", str(classify_folder)])
    assert result.exit_code == 0, result.output
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"


def test_eval_classify_keeps_a_wait_policy_from_the_environment(
    classify_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    result = runner.invoke(app, ["eval", "classify", str(classify_folder)])
    assert result.exit_code == 0, result.output
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


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


def test_a_monitor_run_while_another_runs_says_so_and_exits_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.monitoring.logs
    from assistant.settings import get_settings
    from assistant.storage import Database
    from assistant.storage.locks import Job, Lease

    # JSON logs to the runner's stream would outlive it and break the tests after this one.
    monkeypatch.setattr(assistant.monitoring.logs, "configure", lambda: None)
    monkeypatch.setenv("TETHER_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        database = Database.connect(get_settings().resolved_database_url)
        other = database.locks.acquire(Job.MONITOR, holder="replica-b")
        busy = runner.invoke(app, ["monitor", "run"])
        assert isinstance(other, Lease) and database.locks.release(other)
        free = runner.invoke(app, ["monitor", "run"])
        database.close()
    finally:
        get_settings.cache_clear()
    assert busy.exit_code == 0, busy.output
    assert "not run: monitor is already running (replica-b" in busy.output
    assert json.loads(busy.output.strip().splitlines()[-1]) == {
        "already_running": True,
        "holder": "replica-b",
    }
    assert free.exit_code == 0, free.output
    assert json.loads(free.output.strip().splitlines()[-1])["judged"] == 0


def test_keys_are_created_listed_and_revoked_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.settings import get_settings
    from assistant.storage import Database

    monkeypatch.setenv("TETHER_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        made = runner.invoke(app, ["keys", "create", "alice", "--role", "agent"])
        assert made.exit_code == 0, made.output
        secret = made.output.strip().splitlines()[-1]
        assert secret.startswith("tth_")
        listed = runner.invoke(app, ["keys", "list"])
        assert "alice" in listed.output
        assert secret not in listed.output
        database = Database.connect(f"sqlite:///{tmp_path}/tether.db")
        assert database.keys.authenticate(secret) is not None
        assert runner.invoke(app, ["keys", "revoke", "alice"]).exit_code == 0
        assert database.keys.authenticate(secret) is None
        assert runner.invoke(app, ["keys", "revoke", "alice"]).exit_code == 2
        bad = runner.invoke(app, ["keys", "create", "x", "--role", "god"])
        assert bad.exit_code == 2
        assert "role must be" in bad.output
        database.close()
    finally:
        get_settings.cache_clear()


def test_serve_makes_one_admin_key_on_an_empty_database(tmp_path: Path) -> None:
    from assistant.storage import Database
    from assistant.storage.keys import Role
    from cli import bootstrap_admin_key

    database = Database.connect(f"sqlite:///{tmp_path}/t.db")
    first = bootstrap_admin_key(database)
    assert first is not None
    key = database.keys.authenticate(first)
    assert key is not None
    assert key.role == Role.ADMIN
    assert bootstrap_admin_key(database) is None  # never a second one
    database.close()


def test_regression_cases_export_in_the_benchmark_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, desk: object
) -> None:
    from assistant.desk import AgentDesk, RegressionRequest
    from assistant.escalations.models import NewEscalation
    from assistant.settings import get_settings
    from core.cases import load_cases

    assert isinstance(desk, AgentDesk)
    db = desk.database
    convo = db.conversations.create()
    message = db.conversations.add_message(convo.id, role="customer", text="mars delivery?")
    case = desk.escalate(
        NewEscalation(
            conversation_id=convo.id,
            message_id=message.id,
            reasons=["no_relevant_articles"],
            tier=0,
            issue_type="unknown",
            core_issue="mars delivery?",
            transcript=[{"role": "customer", "text": "mars delivery?"}],
            verdict={"outcome": "escalate"},
            evidence={},
        )
    )
    desk.claim(case.id, "alice")
    desk.resolve(case.id, "alice", reply="No.", regression=RegressionRequest(expect="escalate"))
    monkeypatch.setenv("TETHER_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["cases", "export", str(tmp_path / "reg.jsonl")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    cases = load_cases(tmp_path / "reg.jsonl")
    assert [(c.expect, c.reference_answer) for c in cases] == [("escalate", "No.")]


def test_experiment_analyze_reads_the_database_and_prints_json_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.settings import get_settings
    from assistant.storage import Database
    from assistant.storage.experiments import Outcome

    (tmp_path / "exp.yaml").write_text(
        "experiments:\n  - id: aa\n    variants:\n      control: {weight: 1}\n"
        "      treatment: {weight: 1}\n"
    )
    database = Database.connect(f"sqlite:///{tmp_path}/tether.db")
    for n in range(200):
        unit = f"conversation:{n}"
        variant = "control" if n % 2 else "treatment"
        database.experiments.expose("aa", unit, variant)
        database.experiments.record(
            "aa",
            Outcome(
                unit_id=unit,
                variant=variant,
                conversation_id=str(n),
                message_id=str(n),
                escalated=n % 5 == 0,
                latency_ms=1000.0 + n % 7,
            ),
        )
    database.experiments.expose("aa", "conversation:0", "control")  # a repeat exposure: ignored
    database.close()
    monkeypatch.setenv("TETHER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TETHER_EXPERIMENTS_PATH", str(tmp_path / "exp.yaml"))
    get_settings.cache_clear()
    try:
        listed = runner.invoke(app, ["experiment", "list"])
        result = runner.invoke(app, ["experiment", "analyze", "aa"])
        missing = runner.invoke(app, ["experiment", "analyze", "nope"])
    finally:
        get_settings.cache_clear()
    assert "aa (active, by conversation): control 50%, treatment 50%" in listed.output
    assert result.exit_code == 0, result.output
    assert "A/A: clean" in result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["clean"] is True
    assert figures["control_escalation_rate"] == 0.2
    assert missing.exit_code == 2
    assert "no experiment 'nope'" in missing.output


def test_ask_prints_each_sentence_as_it_passes_then_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.wiring
    from core.llm.fake import FakeChatModel

    monkeypatch.setenv("TETHER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TETHER_ANSWER_PROMPT", "answer@5")
    monkeypatch.setenv("TETHER_MIN_RETRIEVAL_SCORE", "0.05")
    answer = "Each cash-out costs a flat $0.85 [pay-002]. Instant Pay is not free [pay-002]."
    monkeypatch.setattr(assistant.wiring, "build_model", lambda _: FakeChatModel(lambda _: answer))
    assert runner.invoke(app, ["ingest"]).exit_code == 0
    result = runner.invoke(app, ["ask", "How much does an Instant Pay cash-out cost?"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    stages = [line for line in lines if line.startswith("  … ")]
    assert stages[0].startswith("  … screen") and any("generate" in s for s in stages)
    # the first sentence passed tier 1 while the answer was written: printed before the check
    first = lines.index("Each cash-out costs a flat $0.85. [pay-002]")
    assert first < next(i for i, line in enumerate(lines) if "guardrail" in line)
    assert "Instant Pay is not free. [pay-002]" in lines
    assert "verdict: pass tier 1" in result.output


def test_the_last_admin_key_is_not_revoked_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.settings import get_settings
    from assistant.storage import Database

    monkeypatch.setenv("TETHER_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        made = runner.invoke(app, ["keys", "create", "root", "--role", "admin"])
        secret = made.output.strip().splitlines()[-1]
        refused = runner.invoke(app, ["keys", "revoke", "root"])
        assert refused.exit_code == 2
        assert "last active admin key" in refused.output
        database = Database.connect(f"sqlite:///{tmp_path}/tether.db")
        assert database.keys.authenticate(secret) is not None
        assert runner.invoke(app, ["keys", "create", "ops", "--role", "admin"]).exit_code == 0
        assert runner.invoke(app, ["keys", "revoke", "root"]).exit_code == 0
        assert database.keys.authenticate(secret) is None
        database.close()
    finally:
        get_settings.cache_clear()
