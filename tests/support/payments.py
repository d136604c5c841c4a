"""Helpers for pay-in tests: request bodies, an API client, pressing Pay, and running jobs in-process."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from tests.support import factories
from tests.support.forms import csrf_token
from webapp.extensions import db
from webapp.models import PaymentEvent
from workers import jobs


def body(sellers: list, *, checkout_id: str | None = None, amounts: tuple[str, ...] = ("3.15", "2.00"),
         currency: str = "USD", email: str = "buyer@example.com", **extra: Any) -> dict:
    checkout_id = checkout_id or "chk_" + secrets.token_hex(6)
    return {
        "checkout_id": checkout_id,
        "buyer_info": {"email": email, "name": "Ada Buyer"},
        "payment_orders": [
            {"payment_order_id": f"{checkout_id}-{i}", "seller_account": sellers[i % len(sellers)].id,
             "amount": amount, "currency": currency}
            for i, amount in enumerate(amounts)
        ],
        **extra,
    }


class Api:
    """The merchant API through Flask's test client, with a bearer key."""

    def __init__(self, client, key: str) -> None:
        self.client, self.key = client, key

    def headers(self, **extra: str) -> dict:
        return {"Authorization": f"Bearer {self.key}", **extra}

    def create(self, payload: Any, idempotency_key: str | None = None):
        headers = self.headers(**({"Idempotency-Key": idempotency_key} if idempotency_key else {}))
        db.session.rollback()  # never hold a (SQLite) write transaction while the app works
        return self.client.post("/v1/payments", json=payload, headers=headers)

    def get(self, path: str):
        db.session.rollback()
        return self.client.get(path, headers=self.headers())


def merchant_with_sellers(count: int = 2, currency: str = "USD"):
    merchant = factories.merchant()
    sellers = [factories.seller(merchant, index=i, currency=currency) for i in range(count)]
    return merchant, sellers, factories.api_key(merchant)


def seller_by_iban(client) -> tuple[Api, dict, Any]:
    """A JPY seller and a request naming it by its IBAN (spaced, as people write it): (api, payload, seller)."""
    merchant = factories.merchant()
    seller = factories.seller(merchant, currency="JPY")
    payload = body([seller], amounts=("1500",), currency="JPY")
    payload["payment_orders"][0]["seller_account"] = "DE89 3704 0044 0532 0130 00"
    return Api(client, factories.api_key(merchant)), payload, seller


def press_pay(client, payment_event_id: str):
    """What the buyer's browser does on our checkout page: read the form, press Pay."""
    db.session.rollback()
    page = client.get(f"/checkout/{payment_event_id}")
    assert page.status_code == 200, page.status_code
    token = csrf_token(page.get_data(as_text=True))
    return client.post(f"/checkout/{payment_event_id}/pay", data={"csrf_token": token})


def drain(*topics: str) -> None:
    """Run the workers' drain jobs in this process (the same functions RQ runs)."""
    db.session.rollback()
    for topic in topics:
        jobs.drain(topic)


def event(payment_event_id: str) -> PaymentEvent:
    db.session.rollback()
    found = db.session.get(PaymentEvent, payment_event_id)
    assert found is not None
    return found


def wait_until(predicate: Callable[[], Any], timeout: float = 20, interval: float = 0.05, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        value = predicate()
        db.session.rollback()  # never sleep inside a transaction: on SQLite it would hold the write lock
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


def settle(payment_event_id: str, status: str, timeout: float = 20) -> PaymentEvent:
    """Apply incoming webhooks until the checkout reaches `status`."""

    def reached():
        drain("inbox", "checkout.sync")
        found = event(payment_event_id)
        return found if found.status == status else None

    return wait_until(reached, timeout, 0.1, f"checkout {payment_event_id} to reach {status}")


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for `payload`, as the PSP computes it."""
    import hashlib
    import hmac

    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def executing_checkout(client, api: Api, sellers: list) -> PaymentEvent:
    """A checkout whose buyer pressed Pay and whose PSP session is open."""
    created = api.create(body(sellers))
    assert created.status_code == 201, created.json
    press_pay(client, created.json["id"])
    drain("checkout.register")
    found = event(created.json["id"])
    assert found.status == "EXECUTING", found.status
    return found
