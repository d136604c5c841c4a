"""A checkout from API call to SUCCESS: real API, real sandbox over HTTP, signed webhooks, jobs."""

from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from tests.support import payments as pay
from tests.support.forms import csrf_token
from tests.support.sandbox import pay_session, stripe_client
from webapp.extensions import db
from webapp.models import OutboxMessage, PaymentActivity, PspEvent, PspSession


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


def test_pay_pressed_in_many_tabs_at_once_starts_one_attempt(app, client, gateway_server):
    """The conditional UPDATE that starts an attempt also takes the row lock: concurrent presses start one."""
    _, sellers, key = pay.merchant_with_sellers()
    event_id = pay.Api(client, key).create(pay.body(sellers)).json["id"]
    db.session.rollback()

    def press(_: int) -> tuple[int, str]:
        browser = requests.Session()
        page = browser.get(f"{gateway_server}/checkout/{event_id}", timeout=30)
        answer = browser.post(f"{gateway_server}/checkout/{event_id}/pay", timeout=30, allow_redirects=False,
                              data={"csrf_token": csrf_token(page.text)})
        return answer.status_code, answer.headers.get("Location", "")

    unsigned = requests.post(f"{gateway_server}/checkout/{event_id}/pay", timeout=30, allow_redirects=False)
    foreign = requests.post(f"{gateway_server}/checkout/{event_id}/pay", timeout=30, allow_redirects=False,
                            data={"csrf_token": csrf_token(client.get(f"/checkout/{event_id}").get_data(as_text=True))})
    assert unsigned.status_code == foreign.status_code == 400 and "Form expired" in unsigned.text
    assert pay.event(event_id).attempt == 0
    db.session.rollback()  # SQLite: do not hold the write lock the presses need
    with ThreadPoolExecutor(max_workers=8) as tabs:
        answers = list(tabs.map(press, range(8)))
    assert all(status == 303 and "paying=1" in location for status, location in answers), answers
    event = pay.event(event_id)
    assert event.attempt == 1 and event.status == "NOT_STARTED"
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic == "checkout.register")) == 1
    assert db.session.scalars(select(PaymentActivity.detail).where(PaymentActivity.kind == "attempt")).all() == [
        "Buyer pressed Pay: attempt 1"]
    assert client.post("/checkout/pay_nosuchcheckout/pay", data={
        "csrf_token": csrf_token(client.get(f"/checkout/{event_id}").get_data(as_text=True))}).status_code == 404
