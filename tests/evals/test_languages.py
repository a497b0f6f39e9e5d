import json
from pathlib import Path

import pytest

from evals import languages


def test_each_message_gets_a_row_and_the_figures_come_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {
            "id": "de-1",
            "language": "de",
            "source_id": "q-003",
            "text": "Wie lange ist der Anmeldecode gültig?",
        },
        {
            "id": "it-1",
            "language": "it",
            "source_id": "q-021",
            "text": "Quanto tempo richiede il controllo dei precedenti per i corrieri?",
        },
        {"id": "short", "language": "de", "source_id": None, "text": "Danke!"},
    ]
    data = tmp_path / "messages.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    languages.main(["--data", str(data)])
    lines = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["messages"] == 3
    assert figures["translated_handed_over_in_their_language"] == 2
    assert figures["short_handed_over_for_language"] == 0
    assert figures["detect_ms_per_message"] > 0
    table = "\n".join(lines[:-1])
    assert "handed over in de (profile)" in table
    assert "handed over in it (built-in)" in table
    assert "(unsure)" in table
