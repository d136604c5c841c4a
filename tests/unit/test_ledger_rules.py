"""Journal entries that cannot be unbalanced, accounts and their signs, and every posting rule."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain import ledger as L
from webapp.domain.ledger import AccountKind, EntryKind, UnbalancedEntry
from webapp.domain.wallets import Funds

USD_PENDING = L.psp_balance(Funds.PENDING, "USD")
USD_FEES = L.platform(AccountKind.FEE_REVENUE, "USD")


def _effects(entry: L.JournalEntry) -> dict[str, int]:
    return {account.code: change for account, change in entry.deltas().items()}


def test_an_entry_that_does_not_balance_cannot_be_built():
    with pytest.raises(UnbalancedEntry) as raised:
        L.entry("k", EntryKind.CAPTURE, L.debit(USD_PENDING, 100), L.credit(USD_FEES, 99))
    assert (raised.value.key, raised.value.currency, raised.value.total) == ("k", "USD", 1)
    assert "does not balance in USD: postings sum to 1" in str(raised.value)
    with pytest.raises(UnbalancedEntry):  # direct construction is checked too
        L.JournalEntry("k", EntryKind.CAPTURE, (L.debit(USD_PENDING, 5),))


def test_balance_is_per_currency():
    eur = L.platform(AccountKind.FEE_REVENUE, "EUR")
    with pytest.raises(UnbalancedEntry) as raised:  # 100 USD against 100 EUR is not balanced
        L.entry("fx", EntryKind.CAPTURE, L.debit(USD_PENDING, 100), L.credit(eur, 100))
    assert raised.value.currency in ("USD", "EUR")
    both = L.entry("fx", EntryKind.CAPTURE, L.debit(USD_PENDING, 100), L.credit(USD_FEES, 100),
                   L.debit(L.psp_balance(Funds.PENDING, "EUR"), 7), L.credit(eur, 7))
    assert both.currency is None and L.sums_by_currency(both.postings) == {"USD": 0, "EUR": 0}


@pytest.mark.parametrize("amount", [1.5, "3", None, True])
def test_amounts_are_integers_of_minor_units(amount):
    with pytest.raises(TypeError):
        L.debit(USD_PENDING, amount)


def test_zero_postings_are_left_out_and_a_key_is_required():
    entry = L.entry("k", EntryKind.CAPTURE, L.debit(USD_PENDING, 0), L.credit(USD_FEES, 0))
    assert entry.postings == ()
    with pytest.raises(ValueError):
        L.entry("", EntryKind.CAPTURE)


def test_account_codes_and_normal_sides():
    wallet = L.wallet("sel_1", Funds.AVAILABLE, "EUR")
    assert wallet.code == "seller:sel_1:available:EUR" and wallet.sign == -1 and wallet.label == "Wallet, available"
    assert L.psp_balance(Funds.PENDING, "USD").code == "platform:psp_pending:USD" and USD_PENDING.sign == 1
    assert L.platform(AccountKind.PSP_FEES, "USD").sign == 1 and USD_FEES.sign == -1
    assert L.platform(AccountKind.REFUNDS, "USD").sign == -1
    assert L.platform(AccountKind.PAYOUTS_IN_TRANSIT, "USD").code == "platform:payouts_in_transit:USD"
    with pytest.raises(ValueError):
        L.Account(AccountKind.WALLET_PENDING, "USD")
    with pytest.raises(ValueError):
        L.Account(AccountKind.FEE_REVENUE, "USD", "sel_1")


def test_capture():
    entry = L.capture("po_1", "sel_1", "USD", 1000, 60)
    assert entry.key == "capture:po_1" and entry.kind is EntryKind.CAPTURE
    assert _effects(entry) == {"platform:psp_pending:USD": 1000, "seller:sel_1:pending:USD": 940,
                               "platform:fee_revenue:USD": 60}
    assert _effects(L.capture("po_2", "sel_1", "USD", 50, 50)) == {"platform:psp_pending:USD": 50,
                                                                    "platform:fee_revenue:USD": 50}
    with pytest.raises(ValueError):
        L.capture("po_3", "sel_1", "USD", 50, 51)
    with pytest.raises(ValueError):
        L.capture("po_3", "sel_1", "USD", -5, 0)


def test_psp_fee_and_funds_available():
    assert _effects(L.psp_fee("ch_1", "USD", 45)) == {"platform:psp_fees:USD": 45, "platform:psp_pending:USD": -45}
    entry = L.funds_available("ch_1", "USD", 955, {"sel_b": 300, "sel_a": 640})
    assert entry.key == "available:ch_1"
    assert _effects(entry) == {"platform:psp_available:USD": 955, "platform:psp_pending:USD": -955,
                               "seller:sel_a:pending:USD": -640, "seller:sel_a:available:USD": 640,
                               "seller:sel_b:pending:USD": -300, "seller:sel_b:available:USD": 300}


def test_a_charge_smaller_than_its_psp_fee_has_a_negative_net():
    assert _effects(L.funds_available("ch_2", "USD", -29, {"sel_a": 0})) == {"platform:psp_available:USD": -29,
                                                                             "platform:psp_pending:USD": 29}


def test_refund_rules():
    reserved = L.refund_reserved("rf_1", "sel_1", Funds.AVAILABLE, "USD", 88, 12)
    assert _effects(reserved) == {"seller:sel_1:available:USD": -88, "platform:fee_revenue:USD": -12,
                                  "platform:refunds:USD": 100}
    assert _effects(L.refund_paid("rf_1", "USD", 100)) == {"platform:refunds:USD": -100,
                                                           "platform:psp_available:USD": -100}
    released = L.refund_released("rf_1", "sel_1", Funds.PENDING, "USD", 88, 12)
    assert _effects(released) == {"platform:refunds:USD": -100, "seller:sel_1:pending:USD": 88,
                                  "platform:fee_revenue:USD": 12}
    returned = L.refund_returned("rf_1", "sel_1", Funds.AVAILABLE, "USD", 88, 12)
    assert _effects(returned) == {"platform:psp_available:USD": 100, "seller:sel_1:available:USD": 88,
                                  "platform:fee_revenue:USD": 12}
    assert {e.key for e in (reserved, released, returned)} == {"refund:rf_1", "refund_released:rf_1",
                                                                "refund_returned:rf_1"}
    with pytest.raises(ValueError):
        L.refund_reserved("rf_2", "sel_1", Funds.PENDING, "USD", -1, 0)


@given(amount=st.integers(0, 10**12), fee=st.integers(0, 10**12), seller=st.text("abc", min_size=1, max_size=5))
def test_every_rule_balances_for_any_amounts(amount, fee, seller):
    fee = min(fee, amount)
    entries = [L.capture("po", seller, "JPY", amount, fee), L.psp_fee("ch", "JPY", fee),
               L.funds_available("ch", "JPY", amount, {seller: fee}),
               L.refund_reserved("r", seller, Funds.PENDING, "JPY", amount, fee), L.refund_paid("r", "JPY", amount),
               L.refund_released("r", seller, Funds.AVAILABLE, "JPY", amount, fee),
               L.refund_returned("r", seller, Funds.PENDING, "JPY", amount, fee)]
    for entry in entries:
        assert all(total == 0 for total in L.sums_by_currency(entry.postings).values())
