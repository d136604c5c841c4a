"""The floor for `POST /webhooks/psp`: verify the Stripe signature and insert the same inbox row, nothing else.

A measuring stick, not product code: Flask under the same gunicorn settings, a psycopg 3 connection pool, the
`stripe` SDK's signature check (the gateway's own), and one INSERT … ON CONFLICT DO NOTHING RETURNING into the
gateway's own `psp_events` table (same columns, constraints, indexes: made by the same migrations), committed
before answering. No worker wake-up. `bench/payin_webhooks.py` starts it next to the gateway:

    FLOOR_DATABASE_URL=postgresql://... STRIPE_WEBHOOK_SECRET=whsec_... \
        gunicorn --chdir bench --worker-class gthread --workers 2 --threads 8 floor_webhooks:app
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import stripe
from flask import Flask, jsonify, request
from psycopg_pool import ConnectionPool

SECRET = os.environ["STRIPE_WEBHOOK_SECRET"]
POOL = ConnectionPool(os.environ["FLOOR_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"),
                      min_size=int(os.environ.get("FLOOR_POOL_SIZE", "8")),
                      max_size=int(os.environ.get("FLOOR_POOL_SIZE", "8")), open=True)
INSERT = ("INSERT INTO psp_events (id, type, object_id, payload, received_at, attempts) "
          "VALUES (%s, %s, %s, %s, %s, 0) ON CONFLICT (id) DO NOTHING RETURNING id")

app = Flask(__name__)


@app.post("/webhooks/psp")
def psp_webhook():
    text = request.get_data().decode("utf-8")
    try:
        stripe.WebhookSignature.verify_header(text, request.headers.get("Stripe-Signature", ""), SECRET,
                                              stripe.Webhook.DEFAULT_TOLERANCE)
    except stripe.SignatureVerificationError as exc:
        return jsonify(error=str(exc)), 400
    event = json.loads(text)
    with POOL.connection() as conn:
        inserted = conn.execute(INSERT, (event["id"], event["type"], event["data"]["object"].get("id"), text,
                                         datetime.now(UTC))).fetchone()
    return jsonify(received=True, duplicate=inserted is None)
