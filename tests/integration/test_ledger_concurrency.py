"""Concurrency on both databases: the same refund requested 20 times at once, and refunds racing with new captures
(and fee bookings) from 20 threads. The autouse ledger check runs after each test as well."""

from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from tests.support import ledger as books
from tests.support import payments as pay
from tests.support.sandbox import pay_session
from webapp.extensions import db
from webapp.models import PaymentEvent, PspEvent, Refund
from webapp.services import funds
from workers import jobs


def _fee(amount: int) -> int:
    return (2 * amount * 300 + 10_000) // 20_000 + 30


def _post_refunds(url: str, key: str, checkout_id: str, bodies: list[dict], idempotency_key: str | None = None):
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    db.session.rollback()
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(lambda body: requests.post(f"{url}/v1/payments/{checkout_id}/refunds", json=body,
                                                        headers=headers, timeout=60), bodies))


def _refunds() -> list[Refund]:
    db.session.rollback()
    found = list(db.session.scalars(select(Refund)))
    db.session.rollback()
    return found


def test_the_same_refund_twenty_times_at_once_with_one_key_is_one_refund(client, gateway_psp, gateway_server):
    _, sellers, key = pay.merchant_with_sellers()
    event = books.paid_checkout(client, pay.Api(client, key), sellers, gateway_psp.url)
    body = {"payment_order_id": event.orders[0].payment_order_id, "amount": "1.00"}
    responses = _post_refunds(gateway_server, key, event.checkout_id, [body] * 20, "same-refund")
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 1
    assert len(_refunds()) == 1
    assert books.wallet(sellers[0].id)[0] == 315 - _fee(315) - 88


def test_the_whole_order_refunded_twenty_times_at_once_without_a_key_is_one_refund(client, gateway_psp,
                                                                                   gateway_server):
    _, sellers, key = pay.merchant_with_sellers()
    event = books.paid_checkout(client, pay.Api(client, key), sellers, gateway_psp.url)
    body = {"payment_order_id": event.orders[1].payment_order_id}
    responses = _post_refunds(gateway_server, key, event.checkout_id, [body] * 20)
    assert sorted(r.status_code for r in responses) == [201] + [400] * 19
    refused = {r.json()["error"]["code"] for r in responses if r.status_code == 400}
    assert refused == {"payment_order_fully_refunded"}
    assert [r.amount for r in _refunds()] == [200]
    assert books.wallet(sellers[1].id) == (0, 0)
    books.drain_money(books.refunds.CREATE_TOPIC)
    assert [r.status for r in _refunds()] == ["succeeded"]


def test_refunds_race_with_new_captures_from_twenty_threads(client, gateway_psp, gateway_server):
    _, sellers, key = pay.merchant_with_sellers()
    api = pay.Api(client, key)
    refundable = [books.paid_checkout(client, api, sellers, gateway_psp.url, amounts=("20.00", "10.00"))
                  for _ in range(4)]
    waiting = []
    for _ in range(8):  # paid at the PSP; their webhooks wait in the inbox to be applied during the race
        created = api.create(pay.body(sellers, amounts=("7.00", "3.00")))
        pay.press_pay(client, created.json["id"])
        pay.drain("checkout.register")
        event = pay.event(created.json["id"])
        assert pay_session(gateway_psp.url, event.psp_session_id)["status"] == "succeeded"
        waiting.append(event.id)
    pay.wait_until(lambda: db.session.scalar(select(func.count()).select_from(PspEvent).where(
        PspEvent.type == "checkout.session.completed", PspEvent.processed_at.is_(None))) == 8, what="webhooks stored")

    targets = [(e.checkout_id, o.payment_order_id) for e in refundable for o in e.orders]  # plain values

    def refund(n: int):  # 20 refunds of 1.50, spread over the 8 paid orders
        checkout_id, order = targets[n % len(targets)]
        return requests.post(f"{gateway_server}/v1/payments/{checkout_id}/refunds",
                             json={"payment_order_id": order, "amount": "1.50"},
                             headers={"Authorization": f"Bearer {key}"}, timeout=60).status_code

    def capture(n: int):  # the inbox (captures) and the fee job, each in its own app context and session
        jobs.drain("inbox" if n % 4 else funds.FEE_TOPIC)
        return 0

    db.session.rollback()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda n: refund(n // 2) if n % 2 else capture(n // 2), range(40)))
    assert [s for s in results if s] == [201] * 20
    pay.wait_until(lambda: (books.drain_money(), all(
        db.session.get(PaymentEvent, i).status == "SUCCESS" for i in waiting))[1], what="every capture applied")
    books.drain_money()

    refunded = {s.id: 0 for s in sellers}
    for r in _refunds():
        refunded[r.seller_account_id] += r.seller_share
    share_0 = 4 * (2000 - _fee(2000)) + 8 * (700 - _fee(700))
    share_1 = 4 * (1000 - _fee(1000)) + 8 * (300 - _fee(300))
    assert sum(books.wallet(sellers[0].id)) == share_0 - refunded[sellers[0].id]
    assert sum(books.wallet(sellers[1].id)) == share_1 - refunded[sellers[1].id]
    assert {r.status for r in _refunds()} == {"succeeded"}
