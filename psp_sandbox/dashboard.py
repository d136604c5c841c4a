"""A small HTML dashboard at `/_sandbox/`: recent events, their deliveries, and a "Resend" button."""

from __future__ import annotations

import datetime
from typing import Any

from flask import Blueprint, current_app, redirect, render_template

from psp_sandbox.context import Sandbox

bp = Blueprint("dashboard", __name__, url_prefix="/_sandbox")


def _sb() -> Sandbox:
    return current_app.extensions["psp_sandbox"]


@bp.get("/")
def index() -> str:
    sb = _sb()
    events = sb.store.select("type = 'event'", [], "seq DESC", 100)
    deliveries: dict[str, list[dict[str, Any]]] = {}
    if events:
        marks = ", ".join("?" * len(events))  # placeholders only: the ids are bound parameters
        rows = sb.store.conn().execute(
            "SELECT d.event_id, json_extract(e.data, '$.url'), d.status, d.attempts, d.last_status, d.last_error"  # noqa: S608
            f" FROM deliveries d JOIN objects e ON e.id = d.endpoint_id WHERE d.event_id IN ({marks})",
            [event["id"] for event in events],
        )
        for event_id, url, status, attempts, last_status, last_error in rows:
            deliveries.setdefault(event_id, []).append({
                "url": url, "status": status, "attempts": attempts, "last_status": last_status,
                "last_error": last_error,
            })
    endpoints = sb.store.select("type = 'webhook_endpoint'", [], "seq ASC")
    return render_template(
        "dashboard.html", events=events, deliveries=deliveries, endpoints=endpoints, now=_when(sb.clock.now()),
        offset=sb.clock.offset, when=_when, merchant="Sandbox",
    )


@bp.post("/dashboard/events/<event_id>/resend")
def resend(event_id: str) -> Any:
    sb = _sb()
    ids = [row[0] for row in sb.store.conn().execute("SELECT id FROM deliveries WHERE event_id = ?", (event_id,))]
    sb.dispatcher.resend(ids)
    return redirect("/_sandbox/", 303)


def _when(timestamp: int) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
