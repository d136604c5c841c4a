"""Structured logs: one JSON object per line with the bound context, card numbers masked everywhere (tracebacks
included), request ids accepted or made, and context carried into the PSP call threads."""

from __future__ import annotations

import io
import json
import logging
import threading

import pytest
import structlog

from webapp import logging_setup
from webapp.ops import log_context
from webapp.psp import call_each

CARD = "4242424242424242"


@pytest.fixture
def stream():
    out = io.StringIO()
    logging_setup.setup("json", "INFO", out)
    log_context.clear()
    yield out
    log_context.clear()
    logging.getLogger().removeHandler(next(h for h in logging.getLogger().handlers if h.get_name() == "paysplit"))


def lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_stdlib_and_structlog_lines_are_json_with_the_bound_context(stream):
    log_context.start(request_id="req_test_12345678")
    with log_context.bound(payment_id="pay_abc", checkout_id=None):
        logging.getLogger("webapp.example").info("applied %s", "thing")
        structlog.get_logger("webapp.other").warning("moved", status="SUCCESS")
    logging.getLogger("webapp.example").info("after the block")
    first, second, third = lines(stream)
    assert first["event"] == "applied thing" and first["level"] == "info" and first["logger"] == "webapp.example"
    assert first["request_id"] == "req_test_12345678" and first["payment_id"] == "pay_abc"
    assert "checkout_id" not in first  # None values are not bound
    assert first["timestamp"].endswith("Z")
    assert second["event"] == "moved" and second["status"] == "SUCCESS" and second["level"] == "warning"
    assert "payment_id" not in third and third["request_id"] == "req_test_12345678"


def test_card_numbers_are_masked_in_messages_values_and_tracebacks(stream):
    log = logging.getLogger("webapp.example")
    log.info("body %s", CARD)
    structlog.get_logger("webapp.other").info("field", card=f"4242 4242 4242 4242 and {CARD}")
    try:
        raise ValueError(f"bad card {CARD}")
    except ValueError:
        log.exception("failed")
    assert CARD not in stream.getvalue() and "4242 4242 4242 4242" not in stream.getvalue()
    found = lines(stream)
    assert found[0]["event"] == "body [REDACTED]"
    assert "[REDACTED]" in found[1]["card"]
    assert "Traceback" in found[2]["exception"] and "bad card [REDACTED]" in found[2]["exception"]


@pytest.mark.parametrize("value", [CARD, "4242-4242-4242-4242", "4242+4242+4242+4242", "4242%204242%204242%204242",
                                   ["ok", f"x {CARD}"], {"inner": CARD}])
def test_flat_and_nested_lines_are_masked_whichever_value_holds_the_card(stream, value):
    """A flat line is checked in one pass over its texts joined; each shape of value must still be masked."""
    logging.getLogger("webapp.example.request").info("request", extra={"path": "/v1/payments", "status": 200,
                                                               "duration_ms": 1.5, "merchant_id": None, "q": value})
    line = stream.getvalue()
    assert "[REDACTED]" in line and CARD not in line and "4242-4242" not in line and "4242+4242" not in line
    assert "4242%204242" not in line
    assert lines(stream)[0]["status"] == 200 and lines(stream)[0]["path"] == "/v1/payments"


def test_a_line_without_card_numbers_is_left_as_it_is(stream):
    fields = {"path": "/v1/payments/pay_1a2b3c", "status": 201, "duration_ms": 12.5, "merchant_id": "mer_9z8y",
              "note": "amounts 1234 5678 and 2026-11-30T17:17:57Z"}
    logging.getLogger("webapp.example.request").info("request", extra=fields)
    line = lines(stream)[0]
    assert {key: line[key] for key in fields} == fields and line["event"] == "request"


def test_console_format_masks_tracebacks_too():
    out = io.StringIO()
    logging_setup.setup("console", "INFO", out)
    try:
        raise RuntimeError(f"card {CARD}")
    except RuntimeError:
        logging.getLogger("webapp.example").exception("boom")
    assert "boom" in out.getvalue() and "RuntimeError: card [REDACTED]" in out.getvalue()
    assert CARD not in out.getvalue() and not out.getvalue().lstrip().startswith("{")


def test_auto_format_is_console_on_a_terminal_and_json_elsewhere():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert logging_setup.resolve_format("auto", Terminal()) == "console"
    assert logging_setup.resolve_format("auto", io.StringIO()) == "json"
    assert logging_setup.resolve_format("json", Terminal()) == "json"


def test_an_incoming_request_id_is_kept_when_well_formed_else_replaced():
    assert log_context.accept_request_id("req_from-client.42:a") == "req_from-client.42:a"
    for bad in (None, "", "short", "has space in it", "x" * 101, "<script>alert(1)</script>"):
        made = log_context.accept_request_id(bad)
        assert made.startswith("req_") and made != bad
    assert log_context.accept_request_id(None) != log_context.accept_request_id(None)


def test_psp_calls_on_the_thread_pool_log_with_the_callers_context(stream):
    log_context.start(request_id="req_pool_12345678")
    seen: list[tuple[str | None, str]] = []

    def call(item: str) -> str:
        seen.append((log_context.current_request_id(), threading.current_thread().name))
        logging.getLogger("webapp.psp.example").info("call %s", item)
        return item

    with log_context.bound(payment_id="pay_pool"):
        assert call_each(["a", "b", "c"], call, concurrency=3) == ["a", "b", "c"]
    assert {request_id for request_id, _ in seen} == {"req_pool_12345678"}
    assert all(name != threading.current_thread().name for _, name in seen)
    assert [line["payment_id"] for line in lines(stream)] == ["pay_pool"] * 3


def test_make_run_empties_the_metrics_folder_and_decides_the_log_format_where_the_terminal_is(tmp_path,
                                                                                           monkeypatch):
    from webapp.cli.serve import child_log_format, fresh_metrics_dir

    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"left by an earlier run")
    (folder / "README").write_text("not ours")
    assert fresh_metrics_dir(None, tmp_path) == folder
    assert sorted(p.name for p in folder.iterdir()) == ["README"]
    assert fresh_metrics_dir(str(tmp_path / "elsewhere"), tmp_path).is_dir()
    assert child_log_format("json") == "json" and child_log_format("console") == "console"
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdout", Terminal())
    assert child_log_format("auto") == "console"
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert child_log_format("auto") == "json"
