"""`/ws/checkouts/<id>`: the buyer's page listens here for its checkout's status.

The page carries a signed, expiring token for its checkout; without a valid one the socket is closed at
once. The current status is sent first, so nothing that happened before the socket opened is missed.
"""

from __future__ import annotations

import json
import queue

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from simple_websocket import ConnectionClosed

from webapp.extensions import db, sock
from webapp.live.hub import hub_for
from webapp.services import checkout, checkout_reads

PING_SECONDS = 20
_TERMINAL = {"paid"}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="live-checkout")


def token_for(payment_event_id: str) -> str:
    return _serializer().dumps(payment_event_id)


def checkout_for_token(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return _serializer().loads(token, max_age=current_app.config["LIVE_TOKEN_MAX_AGE_SECONDS"])
    except BadSignature:
        return None


@sock.route("/ws/checkouts/<payment_event_id>")
def checkout_socket(ws, payment_event_id: str) -> None:
    if checkout_for_token(request.args.get("token")) != payment_event_id:
        ws.close(reason=1008, message="invalid or expired token")
        return
    hub = hub_for(current_app.config["REDIS_URL"])
    inbox = hub.subscribe(payment_event_id)
    try:
        event = checkout_reads.view(payment_event_id)
        if event is None:
            ws.close(reason=1008, message="no such checkout")
            return
        current = checkout.status_message(event, checkout.state_of(event, retrying=event.registering_retry))
        db.session.remove()  # do not hold a database connection for the socket's lifetime
        ws.send(json.dumps(current))
        state = current["state"]
        while ws.connected and state not in _TERMINAL:
            try:
                message = inbox.get(timeout=PING_SECONDS)
            except queue.Empty:
                ws.send(json.dumps({"type": "ping"}))
                continue
            ws.send(json.dumps(message))
            state = message.get("state", state)
    except ConnectionClosed:
        pass
    finally:
        hub.unsubscribe(payment_event_id, inbox)
