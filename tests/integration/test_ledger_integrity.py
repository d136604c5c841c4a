"""The ledger's guarantees at the database level: append-only postings (trigger), at-most-once posting, balances
applied at commit and never from a rolled-back savepoint, and a verification that names every violation."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.integration.conftest import _empty_tables
from tests.support import ledger as books
from tests.support import payments as pay
from webapp.domain import ledger as rules
from webapp.domain.wallets import Funds
from webapp.extensions import db
from webapp.models import LedgerAccount, LedgerEntry
from webapp.services import ledger, verification


def _balance(code: str) -> int:
    db.session.rollback()
    found = db.session.get(LedgerAccount, code)
    value = found.balance if found else 0
    db.session.rollback()
    return value


def _seller(client):
    _, sellers, _ = pay.merchant_with_sellers(1)
    return sellers[0]


def test_postings_and_entries_refuse_update_and_delete_on_postgresql(client, gateway_psp, backend):
    if backend != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's; SQLite is the embedded single-user database")
    _, sellers, key = pay.merchant_with_sellers()
    books.paid_checkout(client, pay.Api(client, key), sellers, gateway_psp.url)
    for statement in ("UPDATE postings SET amount = amount + 1", "DELETE FROM postings",
                      "UPDATE journal_entries SET memo = 'edited'", "DELETE FROM journal_entries"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.scalar(select(LedgerEntry.memo).limit(1)).endswith("captured")


def test_an_entry_posts_once_and_balances_move_at_commit(client):
    seller = _seller(client)
    entry = rules.capture("po_test_1", seller.id, "USD", 1000, 60)
    assert ledger.post(entry) is not None
    assert ledger.post(entry) is None  # same key: nothing more
    wallet = rules.wallet(seller.id, Funds.PENDING, "USD")
    assert db.session.get(LedgerAccount, wallet.code) is None  # accounts and balances are touched at commit...
    assert ledger.lock([wallet])[wallet.code] == 940  # ...but a locked read sees this transaction's postings
    db.session.commit()
    assert _balance(wallet.code) == 940 and _balance("platform:psp_pending:USD") == 1000
    assert ledger.post(entry) is None
    db.session.commit()
    assert _balance(wallet.code) == 940
    _empty_tables()  # a capture without its payment order would (rightly) fail the ledger check


def test_large_amounts_move_balances_exactly(client):
    seller = _seller(client)
    ledger.post(rules.capture("po_big", seller.id, "USD", 99_999_999_999, 2_999_999_999))  # a billion dollars
    db.session.commit()
    assert _balance(f"seller:{seller.id}:pending:USD") == 97_000_000_000
    assert _balance("platform:fee_revenue:USD") == 2_999_999_999
    _empty_tables()


def test_an_entry_in_a_rolled_back_savepoint_moves_no_balance(client):
    seller = _seller(client)
    with db.session.begin_nested():
        ledger.post(rules.capture("po_kept", seller.id, "USD", 500, 0))
    try:
        with db.session.begin_nested():
            ledger.post(rules.capture("po_dropped", seller.id, "USD", 700, 0))
            raise RuntimeError("this event failed")
    except RuntimeError:
        pass
    db.session.commit()
    assert _balance(f"seller:{seller.id}:pending:USD") == 500
    assert set(db.session.scalars(select(LedgerEntry.key))) == {"capture:po_kept"}
    _empty_tables()


def test_verification_names_each_violation(client, gateway_psp):
    _, sellers, key = pay.merchant_with_sellers()
    event = books.paid_checkout(client, pay.Api(client, key), sellers, gateway_psp.url)
    assert verification.verify().ok
    entry_id = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.key == f"capture:{event.orders[0].id}"))
    wallet = f"seller:{sellers[1].id}:pending:USD"
    db.session.execute(text("INSERT INTO postings (entry_id, account_id, amount, currency, created_at) "
                            "VALUES (:entry, :account, -7, 'USD', CURRENT_TIMESTAMP)"),
                       {"entry": entry_id, "account": wallet})
    db.session.execute(text("UPDATE payment_orders SET ledger_updated = :false WHERE id = :id"),
                       {"id": event.orders[1].id, "false": False})
    db.session.execute(text("UPDATE psp_charges SET fee = fee + 1"))
    db.session.commit()
    report = verification.verify()
    checks = {v.check for v in report.violations}
    assert checks == {"balanced_entries", "zero_sum", "cached_balances", "captures_match_orders",
                      "wallets_match_orders", "money_identity"}, report.text()
    text_report = report.text()
    assert f"journal entry #{entry_id} (capture:{event.orders[0].id}) does not balance in USD: its postings sum " \
           "to -7 minor units" in text_report
    assert "postings in USD sum to -7 minor units, not zero" in text_report
    assert f"paid order {event.orders[1].id} is not fully booked (ledger_updated=False" in text_report
    assert "USD: captured - refunded - fees = " in text_report
    assert "violation(s)" in text_report.splitlines()[-1]
    _empty_tables()  # the autouse check after this test then sees a clean ledger
