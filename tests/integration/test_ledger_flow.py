"""Money through the ledger, end to end: capture on SUCCESS, the PSP's fee, funds becoming available."""

import pytest
from sqlalchemy import select

from tests.support import ledger as books
from tests.support import payments as pay
from tests.support.openapi import assert_response
from tests.support.sandbox import advance_clock, pay_session
from webapp.extensions import db
from webapp.models import LedgerEntry, OrderFunds, PaymentActivity, PspAvailability, PspCharge


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    """These tests move the PSP's clock: a sandbox of their own."""
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


def _fee(amount: int) -> int:  # the defaults: 3% (half up) + 30 minor units
    return (2 * amount * 300 + 10_000) // 20_000 + 30


def test_capture_books_wallets_revenue_and_psp_balance_in_the_status_transaction(app, client, gateway_psp):
    _, sellers, key = pay.merchant_with_sellers()
    api = pay.Api(client, key)
    created = api.create(pay.body(sellers, amounts=("3.15", "2.00")))
    pay.press_pay(client, created.json["id"])
    pay.drain("checkout.register")
    event = pay.event(created.json["id"])
    pay_session(gateway_psp.url, event.psp_session_id)
    event = pay.settle(event.id, "SUCCESS")  # only the inbox ran: the capture came with the status change

    assert all(o.ledger_updated and o.wallet_updated for o in event.orders)
    assert books.wallet(sellers[0].id) == (315 - _fee(315), 0)
    assert books.wallet(sellers[1].id) == (200 - _fee(200), 0)
    assert books.platform("fee_revenue") == _fee(315) + _fee(200)
    assert books.platform("psp_pending") == 515
    keys = set(db.session.scalars(select(LedgerEntry.key).where(LedgerEntry.payment_event_id == event.id)))
    assert keys == {f"capture:{o.id}" for o in event.orders}
    body = assert_response(api.get(f"/v1/payments/{created.json['checkout_id']}"), "/v1/payments/{checkout_id}")
    assert [(o["ledger_updated"], o["wallet_updated"], o["amount_refunded"]) for o in body["payment_orders"]] == [
        (True, True, "0.00"), (True, True, "0.00")]


def test_psp_fee_is_read_from_the_balance_transaction_then_funds_become_available(app, client, psp):
    _, sellers, key = pay.merchant_with_sellers()
    event = books.paid_checkout(client, pay.Api(client, key), sellers, psp.url)
    charge = db.session.scalar(select(PspCharge).where(PspCharge.payment_event_id == event.id))
    assert charge is not None and charge.amount == 515 and charge.fee == round(515 * 0.029) + 30
    assert charge.funds == "pending" and charge.net == 515 - charge.fee
    assert books.platform("psp_fees") == charge.fee
    assert books.platform("psp_pending") == charge.net

    advance_clock(psp.url, 2 * 86_400 + 60)  # the sandbox sends balance.available
    pay.wait_until(lambda: (books.drain_money(), books.wallet(sellers[0].id)[1] > 0)[1], what="funds available")
    assert books.wallet(sellers[0].id) == (0, 315 - _fee(315))
    assert books.wallet(sellers[1].id) == (0, 200 - _fee(200))
    assert books.platform("psp_pending") == 0 and books.platform("psp_available") == charge.net
    assert {f.funds for f in db.session.scalars(select(OrderFunds).where(OrderFunds.payment_event_id == event.id))} \
        == {"available"}
    timeline = db.session.scalars(select(PaymentActivity.detail).where(PaymentActivity.kind == "funds")).all()
    assert any("processing fee" in d for d in timeline) and any("Funds available" in d for d in timeline)


def test_a_charge_recorded_after_its_balance_available_event_is_still_released(app, client, psp):
    """balance.available applied before the fee job read the charge: the watermark releases it later."""
    _, sellers, key = pay.merchant_with_sellers()
    api = pay.Api(client, key)
    created = api.create(pay.body(sellers, amounts=("10.00",)))
    pay.press_pay(client, created.json["id"])
    pay.drain("checkout.register")
    event = pay.event(created.json["id"])
    pay_session(psp.url, event.psp_session_id)
    pay.settle(event.id, "SUCCESS")
    advance_clock(psp.url, 2 * 86_400 + 60)

    def announced():
        pay.drain("inbox", "ledger.available")
        return db.session.get(PspAvailability, "platform")

    pay.wait_until(announced, what="the availability announcement, applied before the fee is known")
    assert books.platform("psp_pending") == 1000 and books.wallet(sellers[0].id)[1] == 0
    books.drain_money("ledger.psp_fee")
    assert books.wallet(sellers[0].id) == (0, 1000 - _fee(1000))
    assert books.platform("psp_pending") == 0
