"""A checkout from API call to SUCCESS: real API, real sandbox over HTTP, signed webhooks, jobs."""

from sqlalchemy import func, select

from tests.support import payments as pay
from tests.support.sandbox import pay_session, stripe_client
from webapp.extensions import db
from webapp.models import PaymentActivity, PspEvent, PspSession


def test_buyer_pays_two_sellers_by_card(app, client, gateway_psp):
    _, sellers, key = pay.merchant_with_sellers()
    api = pay.Api(client, key)
    created = api.create(pay.body(sellers, amounts=("3.15", "2.00")))
    assert created.status_code == 201, created.json
    payment = created.json
    assert payment["status"] == "NOT_STARTED" and payment["amount_total"] == "5.15"
    event_id = payment["id"]
    assert payment["checkout_url"].endswith(f"/checkout/{event_id}")

    response = pay.press_pay(client, event_id)
    assert response.status_code == 303 and "paying=1" in response.location
    pay.drain("checkout.register")
    event = pay.event(event_id)
    assert event.status == "EXECUTING" and event.psp_session_url.startswith(gateway_psp.url)
    assert all(o.status == "EXECUTING" for o in event.orders)

    session = stripe_client(gateway_psp.url).v1.checkout.sessions.retrieve(event.psp_session_id)
    assert session.client_reference_id == event_id and session.amount_total == 515
    assert session.metadata["payment_event_id"] == event_id and session.customer_email == "buyer@example.com"
    assert pay_session(gateway_psp.url, event.psp_session_id, card_number="4242424242424242")["status"] == "succeeded"

    event = pay.settle(event_id, "SUCCESS")
    assert all(o.status == "SUCCESS" for o in event.orders)
    assert api.get(f"/v1/payments/{payment['checkout_id']}").json["status"] == "SUCCESS"
    assert db.session.scalar(select(func.count()).select_from(PspSession)) == 1
    assert db.session.scalar(select(func.count()).select_from(PspEvent).where(
        PspEvent.type == "checkout.session.completed")) == 1
    changes = db.session.scalars(select(PaymentActivity.detail).where(PaymentActivity.kind == "status")).all()
    assert changes == ["NOT_STARTED → EXECUTING (PSP session created)",
                       "EXECUTING → SUCCESS (checkout.session.completed)"]
