"""`POST /webhooks/psp`: verify the signature, store the event once, answer at once; workers apply it."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, request
from werkzeug.exceptions import BadRequest

from webapp import input_guard
from webapp.extensions import csrf, limiter
from webapp.psp import WebhookRejected, get_psp
from webapp.services import inbox

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)
limiter.exempt(bp)

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
# The two answers, written once (as jsonify would write them).
_ANSWERS = {duplicate: json.dumps({"duplicate": duplicate, "received": True}, separators=(",", ":")) + "\n"
            for duplicate in (False, True)}


@bp.post("/psp")
def psp_webhook():
    request.max_content_length = MAX_BODY_BYTES
    payload = request.get_data()
    try:
        document = input_guard.checked_json()
        notice = get_psp().verify_webhook(payload, request.headers.get("Stripe-Signature"),
                                          None if document is input_guard.NOT_CHECKED else document)
    except WebhookRejected as exc:
        log.warning("rejected a webhook: %s", exc)
        raise BadRequest(f"Webhook verification failed: {exc}")
    new = inbox.receive(notice, payload.decode("utf-8"))
    return Response(_ANSWERS[not new], mimetype="application/json")
