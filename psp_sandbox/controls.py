"""Sandbox controls under `/_sandbox/` (JSON, not part of Stripe's API): clock, faults, resending events,
paying a session without a browser, and views of events and deliveries for tools and tests."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from psp_sandbox import jobs
from psp_sandbox.cards import check_form
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import StripeError, invalid, no_such
from psp_sandbox.page import success_url
from psp_sandbox.resources import payments, sessions
from psp_sandbox.resources.payments import Buyer, Outcome

bp = Blueprint("controls", __name__, url_prefix="/_sandbox")


def _sb() -> Sandbox:
    return current_app.extensions["psp_sandbox"]


# The clock moves at most ten years per call: far enough for any schedule, small enough to keep dates valid.
MAX_ADVANCE = 10 * 365 * 86_400


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and request.content_length:
        raise invalid("Send a JSON object.")
    if body is not None and not isinstance(body, dict):
        raise invalid("Send a JSON object.")
    return body or {}


def _text(body: dict, name: str, default: str | None = None) -> str | None:
    value = body.get(name, default)
    if value is not None and not isinstance(value, str):
        raise invalid(f"`{name}` is a string.", name)
    return value


def _limit(default: int, most: int) -> int:
    raw = request.args.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise invalid(f"`limit` is an integer from 1 to {most}.", "limit", "parameter_invalid_integer")
    return int(raw)


@bp.errorhandler(StripeError)
def _error(error: StripeError) -> tuple[Any, int]:
    return jsonify(error.as_json()), error.status


@bp.get("/health")
def health() -> Any:
    sb = _sb()
    delays = {name: getattr(sb.settings, name) for name in (
        "available_delay", "bank_transfer_delay", "payout_transit_delay", "payout_arrival_delay",
        "refund_failure_delay", "session_lifetime")}
    return {"ok": True, "now": sb.clock.now(), "delays": delays}


@bp.get("/clock")
def clock() -> Any:
    sb = _sb()
    return {"now": sb.clock.now(), "offset": sb.clock.offset}


@bp.post("/clock/advance")
def advance_clock() -> Any:
    sb = _sb()
    seconds = _body().get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_ADVANCE:
        raise invalid(f"`seconds` must be an integer from 0 to {MAX_ADVANCE} (ten years): the clock only moves "
                      "forward.", "seconds")
    if sb.clock.offset + seconds > 10 * MAX_ADVANCE:
        raise invalid("The sandbox clock cannot run more than a hundred years ahead; start a new database.",
                      "seconds")
    sb.clock.advance(seconds)
    handled = jobs.run_due(sb)
    return {"now": sb.clock.now(), "offset": sb.clock.offset, "handled": handled}


@bp.get("/faults")
def get_faults() -> Any:
    return asdict(_sb().faults.config)


@bp.post("/faults")
def set_faults() -> Any:
    return asdict(_sb().faults.configure(_body()))


@bp.get("/faults/injected")
def injected_faults() -> Any:
    """How many faults of each kind this server injected since it started (`api_503`, `webhook_drop`…)."""
    return dict(_sb().faults.injected)


@bp.delete("/faults")
def clear_faults() -> Any:
    return asdict(_sb().faults.configure({}))


@bp.get("/faults/report")
def get_report_faults() -> Any:
    return asdict(_sb().faults.report)


@bp.post("/faults/report")
def set_report_faults() -> Any:
    """Withhold or duplicate rows of the next (or every) report run: {"withhold": [ids], "duplicate": [ids],
    "runs": "next" | "all"}, ids being balance transaction ids or source ids."""
    return asdict(_sb().faults.configure_report(_body()))


@bp.delete("/faults/report")
def clear_report_faults() -> Any:
    return asdict(_sb().faults.configure_report({}))


@bp.post("/events/<event_id>/resend")
def resend(event_id: str) -> Any:
    sb = _sb()
    ids = [row[0] for row in sb.store.conn().execute("SELECT id FROM deliveries WHERE event_id = ?", (event_id,))]
    if sb.store.get(event_id, type_="event") is None:
        raise no_such("event", event_id)
    sb.dispatcher.resend(ids)
    return {"event": event_id, "deliveries": len(ids)}


@bp.post("/checkout/sessions/<session_id>/pay")
def pay(session_id: str) -> Any:
    """Complete a session as a buyer would, for load tests: method card (any test card), wallet or bank_transfer."""
    sb = _sb()
    body = _body()
    method = _text(body, "method", "card")
    with sb.store.write():
        session = sessions.get(sb, session_id)
        email = _text(body, "email") or session["customer_email"] or "buyer@example.com"
        buyer = Buyer(email, _text(body, "name", "Test Buyer"))
        if method == "card":
            outcome = _pay_card(sb, session_id, body, buyer)
        elif method == "wallet":
            outcome = payments.pay_wallet(sb, session_id, buyer)
        elif method == "bank_transfer":
            outcome = payments.pay_bank_transfer(sb, session_id, buyer)
        else:
            raise invalid("`method` is one of card, wallet, bank_transfer.")
    return _outcome_json(outcome), 200 if outcome.status not in ("declined", "invalid") else 402


def _pay_card(sb: Sandbox, session_id: str, body: dict, buyer: Buyer) -> Outcome:
    card, errors = check_form(str(body.get("card_number", "4242424242424242")), str(body.get("expiry", "12/34")),
                              str(body.get("cvc", "123")), buyer.name or "", (2000, 1))
    if card is None:
        return Outcome("invalid", sessions.get(sb, session_id), "Invalid card details.", errors)
    outcome = payments.pay_card(sb, session_id, card, buyer)
    answer = _text(body, "three_d_secure", "complete")
    if outcome.status == "requires_action" and answer in ("complete", "fail"):
        outcome = payments.authenticate(sb, session_id, answer == "complete")
    return outcome


def _outcome_json(outcome: Outcome) -> dict:
    session = outcome.session
    body: dict[str, Any] = {"status": outcome.status, "session": dict(session)}
    if outcome.message:
        body["message"] = outcome.message
    if outcome.field_errors:
        body["field_errors"] = outcome.field_errors
    if outcome.status in ("succeeded", "processing"):
        body["redirect_url"] = success_url(session)
    return body


@bp.get("/events")
def all_events() -> Any:
    """Every account's events in creation order, after the `after` event id (what `listen` polls)."""
    sb = _sb()
    after = request.args.get("after")
    seq = 0
    if after:
        found = sb.store.get(after, type_="event")
        seq = found.seq if found else 0
    limit = _limit(100, 500)
    rows = sb.store.select("type = 'event' AND seq > ?", [seq], "seq ASC", limit)
    return {"data": [dict(row) for row in rows]}


@bp.get("/deliveries")
def deliveries() -> Any:
    sb = _sb()
    sql = "SELECT id, event_id, endpoint_id, status, attempts, last_status, last_error FROM deliveries"
    args: list[Any] = []
    if request.args.get("event"):
        sql += " WHERE event_id = ?"
        args.append(request.args["event"])
    rows = sb.store.conn().execute(sql + " ORDER BY id DESC LIMIT 1000", args).fetchall()
    keys = ("id", "event", "endpoint", "status", "attempts", "last_status", "last_error")
    return {"data": [dict(zip(keys, row, strict=True)) for row in rows]}


@bp.post("/webhooks/pause")
def pause_webhooks() -> Any:
    _sb().dispatcher.pause(True)
    return {"paused": True}


@bp.post("/webhooks/resume")
def resume_webhooks() -> Any:
    _sb().dispatcher.pause(False)
    return {"paused": False}


@bp.get("/deliveries/idle")
def deliveries_idle() -> Any:
    """Whether no delivery is queued, in flight or waiting for a retry (tests and benchmarks wait on it)."""
    return {"idle": _sb().dispatcher.idle()}
