import json
import logging

from assistant.monitoring.logs import JsonFormatter, trace_id


def test_a_log_line_is_one_json_object_with_the_trace_id_and_extras() -> None:
    record = logging.LogRecord("tether.x", logging.INFO, __file__, 1, "handled %s", ("it",), None)
    record.conversation_id = "c-1"
    token = trace_id.set("abc123")
    try:
        line = JsonFormatter().format(record)
    finally:
        trace_id.reset(token)
    entry = json.loads(line)
    assert entry["message"] == "handled it"
    assert entry["trace_id"] == "abc123"
    assert entry["conversation_id"] == "c-1"
    assert entry["level"] == "info"
    assert "args" not in entry


def test_exceptions_are_logged_with_their_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exception"]
    assert entry["trace_id"] == "-"
