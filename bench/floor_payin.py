"""The floor for `POST /v1/payments`: the least a server of the gateway's own stack can do for the same work.

A measuring stick, not product code. Flask under the same gunicorn settings, a psycopg 3 connection pool, the
gateway's own JSON validation (`CreatePayment.from_json`), Fernet encryption of the buyer's email and name, one
transaction inserting the checkout row and its order rows into the gateway's own tables (`payment_events`,
`payment_orders`: the same columns, constraints and indexes, created by the same migrations), and the same JSON
answer. No authentication, idempotency keys, rate limits or seller lookup: what is left is the work any server
must do. `bench/payin_api.py` starts it with gunicorn next to the gateway and loads both in the same run:

    FLOOR_DATABASE_URL=postgresql://... FLOOR_MERCHANT_ID=mer_... DATA_ENCRYPTION_KEY=... \
        gunicorn --chdir bench --worker-class gthread --workers 2 --threads 8 floor_payin:app
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask, jsonify, request
from psycopg_pool import ConnectionPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from webapp.dbtypes import new_id
from webapp.domain.errors import ValidationError
from webapp.domain.money import Money
from webapp.domain.payment_requests import CreatePayment

MERCHANT_ID = os.environ["FLOOR_MERCHANT_ID"]
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1")
FERNET = Fernet(os.environ["DATA_ENCRYPTION_KEY"].split(",")[0].strip().encode())
POOL = ConnectionPool(os.environ["FLOOR_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"),
                      min_size=int(os.environ.get("FLOOR_POOL_SIZE", "8")),
                      max_size=int(os.environ.get("FLOOR_POOL_SIZE", "8")), open=True)

INSERT_EVENT = (
    "INSERT INTO payment_events (id, merchant_id, checkout_id, request_hash, currency, amount_total, status, "
    "buyer_email_enc, buyer_name_enc, success_url, cancel_url, attempt, psp_session_id, psp_session_url, "
    "failure_code, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, 'NOT_STARTED', %s, %s, %s, %s, 0, "
    "NULL, NULL, NULL, %s, %s) ON CONFLICT (merchant_id, checkout_id) DO NOTHING RETURNING id")
INSERT_ORDER = (
    "INSERT INTO payment_orders (id, payment_event_id, payment_order_id, position, seller_account_id, amount, "
    "currency, description, status, ledger_updated, wallet_updated, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'NOT_STARTED', false, false, %s, %s)")
MAX_AMOUNT_MINOR = 10**9

app = Flask(__name__)


@app.errorhandler(ValidationError)
def invalid(exc: ValidationError):
    return jsonify({"error": {"type": "invalid_request_error", "message": str(exc)}}), 400


@app.post("/v1/payments")
def create_payment():
    command = CreatePayment.from_json(request.get_json(), max_amount_minor=MAX_AMOUNT_MINOR)
    now = datetime.now(UTC)
    event_id = new_id("pay", 24)
    email_enc = FERNET.encrypt(command.buyer_email.encode()).decode()
    name_enc = FERNET.encrypt(command.buyer_name.encode()).decode() if command.buyer_name is not None else None
    total = command.total
    orders = [(new_id("po"), event_id, o.payment_order_id, i, o.seller_ref, o.amount.minor, o.amount.currency,
               o.description, now, now) for i, o in enumerate(command.orders)]
    with POOL.connection() as conn:
        inserted = conn.execute(INSERT_EVENT, (event_id, MERCHANT_ID, command.checkout_id, command.request_hash,
                                               total.currency, total.minor, email_enc, name_enc,
                                               command.success_url, command.cancel_url, now, now)).fetchone()
        if inserted is None:
            return jsonify({"error": {"type": "invalid_request_error", "message": "checkout_id exists"}}), 409
        with conn.cursor() as cursor:
            cursor.executemany(INSERT_ORDER, orders)
    return jsonify({
        "id": event_id, "object": "payment", "checkout_id": command.checkout_id, "status": "NOT_STARTED",
        "amount_total": total.decimal_string, "currency": total.currency,
        "checkout_url": f"{PUBLIC_BASE_URL}/checkout/{event_id}",
        "buyer_info": {"email": command.buyer_email, "name": command.buyer_name},
        "success_url": command.success_url, "cancel_url": command.cancel_url, "failure_code": None,
        "created": int(now.timestamp()),
        "payment_orders": [{
            "payment_order_id": o.payment_order_id, "seller_account": o.seller_ref,
            "amount": o.amount.decimal_string, "currency": o.amount.currency, "description": o.description,
            "status": "NOT_STARTED", "ledger_updated": False, "wallet_updated": False,
            "amount_refunded": Money(0, o.amount.currency).decimal_string,
        } for o in command.orders],
        "refunds": [],
    }), 201
