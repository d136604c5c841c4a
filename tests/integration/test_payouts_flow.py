"""Pay-outs end to end against the sandbox: onboarding, the run, transfer + payout, paid and failed outcomes."""

from datetime import date

import pytest

from tests.support import factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import payouts as po
from webapp.domain.sellers import SellerChanges
from webapp.extensions import db
from webapp.models import Merchant
from webapp.services import sellers


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


def _shop(ibans):
    merchant = factories.merchant()
    return merchant, po.onboarded_sellers(merchant, ibans), factories.api_key(merchant)


def test_a_due_seller_is_paid_once_and_the_payout_itemizes_its_orders(app, client, psp):
    _, (first, second), key = _shop(po.GOOD_IBANS[:2])
    assert first.account_state == "active" and first.bank_account_status == "active" and first.payouts_enabled
    event = books.paid_checkout(client, pay.Api(client, key), [first, second], psp.url, amounts=("30.00", "20.00"))
    po.make_available(psp.url)
    available = books.wallet(first.id)[1]
    assert available > 0

    result = po.run_and_submit()
    assert len(result.created) == 2
    again = po.run_and_submit()  # the same day's period is paid already
    assert again.created == [] and again.skipped == {"already_paid_for_period": 2}

    (payout,) = po.payouts_of(first.id)
    assert payout.amount == available and payout.status == "pending" and payout.psp_payout_id
    assert [(i.kind, i.amount, i.payment_order_id) for i in payout.items] == [
        ("payment_order", available, event.orders[0].id)]
    assert books.wallet(first.id) == (0, 0)
    assert books.platform("payouts_in_transit") == payout.amount + po.payouts_of(second.id)[0].amount

    po.settle_payouts(psp.url)
    pay.wait_until(lambda: (po.drain_payouts(), po.payouts_of(first.id)[0].status == "paid")[1], what="paid")
    assert books.platform("payouts_in_transit") == 0 or po.payouts_of(second.id)[0].status != "paid"


def test_a_failing_bank_account_returns_the_money_pauses_the_seller_until_replaced(app, client, psp):
    merchant, (seller,), key = _shop([po.NO_ACCOUNT_IBAN])
    books.paid_checkout(client, pay.Api(client, key), [seller], psp.url, amounts=("12.00",))
    po.make_available(psp.url)
    available = books.wallet(seller.id)[1]
    po.run_and_submit()
    po.settle_payouts(psp.url)
    pay.wait_until(lambda: (po.drain_payouts(), po.payouts_of(seller.id)[0].status == "failed")[1], what="failed")
    (payout,) = po.payouts_of(seller.id)
    assert payout.failure_code == "no_account"
    pay.wait_until(lambda: (po.drain_payouts(), bool(po.payouts_of(seller.id)[0].psp_reversal_id))[1],
                   what="transfer reversed")
    assert books.wallet(seller.id)[1] == available
    db.session.rollback()
    assert db.session.get(type(seller), seller.id).bank_account_status == "errored"
    tomorrow = date.fromordinal(date.today().toordinal() + 1)
    assert po.run_and_submit(tomorrow).skipped == {"bank_account_errored": 1}

    sellers.update(db.session.get(Merchant, merchant.id), seller.id, SellerChanges(iban=po.GOOD_IBANS[2]))
    pay.wait_until(lambda: (po.drain_payouts(), db.session.get(type(seller), seller.id).bank_account_status
                            == "active")[1], what="bank account replaced")
    assert len(po.run_and_submit(tomorrow).created) == 1
    retry = po.payouts_of(seller.id)[-1]
    assert retry.amount == available and sum(i.amount for i in retry.items) == available
