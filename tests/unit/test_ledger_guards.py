"""What an auditor checks in the posting rules: no negative amount slips into an entry that still balances, the
wallet side an entry touches is the one holding the order's money, each entry says what it is and why."""

import pytest

from webapp.domain import ledger as L
from webapp.domain.ledger import AccountKind, EntryKind
from webapp.domain.ledger_adjustments import adjustment
from webapp.domain.wallets import Funds


def _effects(entry: L.JournalEntry) -> dict[str, int]:
    return {account.code: change for account, change in entry.deltas().items()}


def _refused(rule, *args) -> str:
    with pytest.raises(ValueError) as raised:
        rule(*args)
    return str(raised.value)


def test_a_negative_platform_fee_cannot_inflate_the_sellers_share():
    """capture(100, fee=-5) would credit the seller 105 and still balance: it must be refused."""
    assert _refused(L.capture, "po", "sel", "USD", 100, -5) == (
        "platform_fee must be a non-negative integer of minor units, got -5")
    assert _refused(L.capture, "po", "sel", "USD", -100, 0) == (
        "amount must be a non-negative integer of minor units, got -100")
    assert _refused(L.capture, "po", "sel", "USD", 100, 2.5) == (
        "platform_fee must be a non-negative integer of minor units, got 2.5")
    assert _refused(L.capture, "po", "sel", "USD", 100, 101) == "the platform fee cannot exceed the amount"


@pytest.mark.parametrize("rule", [L.refund_reserved, L.refund_released, L.refund_returned])
def test_refund_shares_cannot_be_negative(rule):
    """A negative share would move money the wrong way while the entry still balances."""
    assert _refused(rule, "rf", "sel", Funds.AVAILABLE, "USD", -1, 10) == (
        "seller_share must be a non-negative integer of minor units, got -1")
    assert _refused(rule, "rf", "sel", Funds.AVAILABLE, "USD", 10, -1) == (
        "fee_share must be a non-negative integer of minor units, got -1")


def test_other_amounts_cannot_be_negative_or_fractional():
    assert _refused(L.psp_fee, "ch", "USD", -3) == "fee must be a non-negative integer of minor units, got -3"
    assert _refused(L.refund_paid, "rf", "USD", -3) == "amount must be a non-negative integer of minor units, got -3"
    assert _refused(L.funds_available, "ch", "USD", 10.0, {}) == "net must be an integer of minor units, got 10.0"
    assert _refused(L.funds_available, "ch", "USD", 10, {"sel_a": -4}) == (
        "share of sel_a must be a non-negative integer of minor units, got -4")


@pytest.mark.parametrize("funds", list(Funds))
def test_refunds_touch_the_wallet_side_that_holds_the_orders_money(funds):
    wallet = L.wallet("sel_1", funds, "USD").code
    other = L.wallet("sel_1", Funds.AVAILABLE if funds is Funds.PENDING else Funds.PENDING, "USD").code
    for rule, change in [(L.refund_reserved, -70), (L.refund_released, 70), (L.refund_returned, 70)]:
        effects = _effects(rule("rf_1", "sel_1", funds, "USD", 70, 30))
        assert effects[wallet] == change and other not in effects


def test_each_rule_records_its_kind_key_and_memo():
    entries = {
        L.capture("po_1", "sel_1", "USD", 100, 10): (EntryKind.CAPTURE, "capture:po_1", "Payment order po_1 captured"),
        L.capture("po_1", "sel_1", "USD", 100, 10, reference="order-77"): (
            EntryKind.CAPTURE, "capture:po_1", "Payment order order-77 captured"),
        L.psp_fee("ch_1", "USD", 5): (EntryKind.PSP_FEE, "psp_fee:ch_1", "PSP processing fee of charge ch_1"),
        L.funds_available("ch_1", "USD", 95, {"sel_1": 90}): (
            EntryKind.FUNDS_AVAILABLE, "available:ch_1", "Funds available at the PSP (charge ch_1)"),
        L.refund_reserved("rf_1", "sel_1", Funds.PENDING, "USD", 9, 1): (
            EntryKind.REFUND_RESERVED, "refund:rf_1", "Refund rf_1 reserved"),
        L.refund_paid("rf_1", "USD", 10): (EntryKind.REFUND_PAID, "refund_paid:rf_1", "Refund rf_1 paid by the PSP"),
        L.refund_released("rf_1", "sel_1", Funds.PENDING, "USD", 9, 1): (
            EntryKind.REFUND_RELEASED, "refund_released:rf_1", "Refund rf_1 failed; reservation released"),
        L.refund_returned("rf_1", "sel_1", Funds.PENDING, "USD", 9, 1): (
            EntryKind.REFUND_RETURNED, "refund_returned:rf_1", "Refund rf_1 failed after payment; money returned"),
    }
    for entry, (kind, key, memo) in entries.items():
        assert (entry.kind, entry.key, entry.memo) == (kind, key, memo)
        assert entry.currency == "USD"


def test_money_returned_after_a_bounce_lands_on_the_available_psp_balance():
    effects = _effects(L.refund_returned("rf_1", "sel_1", Funds.PENDING, "USD", 9, 1))
    assert effects == {"platform:psp_available:USD": 10, "seller:sel_1:pending:USD": 9, "platform:fee_revenue:USD": 1}
    paid = _effects(L.refund_paid("rf_1", "USD", 10))
    assert paid == {"platform:refunds:USD": -10, "platform:psp_available:USD": -10}


def test_an_entry_without_memo_has_an_empty_one():
    entry = L.entry("k", EntryKind.PSP_FEE, L.debit(L.platform(AccountKind.PSP_FEES, "USD"), 1),
                    L.credit(L.psp_balance(Funds.PENDING, "USD"), 1))
    assert entry.memo == "" and L.entry("k", EntryKind.PSP_FEE, memo="m").memo == "m"


def test_deltas_add_up_postings_to_the_same_account():
    fees, pending = L.platform(AccountKind.PSP_FEES, "USD"), L.psp_balance(Funds.PENDING, "USD")
    entry = L.entry("k", EntryKind.PSP_FEE, L.debit(fees, 30), L.debit(fees, 70), L.credit(pending, 100))
    assert entry.deltas() == {fees: 100, pending: -100}


def test_refusals_of_malformed_accounts_postings_and_entries_explain_themselves():
    with pytest.raises(ValueError) as raised:
        L.Account(AccountKind.WALLET_PENDING, "USD")
    assert str(raised.value) == "wallet_pending accounts need seller"
    with pytest.raises(ValueError) as raised:
        L.Account(AccountKind.FEE_REVENUE, "USD", "sel_1")
    assert str(raised.value) == "fee_revenue accounts take no seller"
    with pytest.raises(TypeError) as type_error:
        L.debit(L.psp_balance(Funds.PENDING, "USD"), 1.5)
    assert str(type_error.value) == "posting amounts are integers of minor units, got 1.5"
    with pytest.raises(ValueError) as raised:
        L.entry("", EntryKind.CAPTURE)
    assert str(raised.value) == "a journal entry needs a key"


def test_every_account_has_a_stable_code_label_and_normal_side():
    """Codes are the accounts' ids in the database; labels and signs are what the ledger pages show."""
    expected = {  # kind: (code, label, sign)
        AccountKind.PSP_PENDING: ("platform:psp_pending:EUR", "PSP balance, pending", 1),
        AccountKind.PSP_AVAILABLE: ("platform:psp_available:EUR", "PSP balance, available", 1),
        AccountKind.FEE_REVENUE: ("platform:fee_revenue:EUR", "Platform fee revenue", -1),
        AccountKind.PSP_FEES: ("platform:psp_fees:EUR", "PSP processing fees", 1),
        AccountKind.REFUNDS: ("platform:refunds:EUR", "Refunds in flight", -1),
        AccountKind.PAYOUTS_IN_TRANSIT: ("platform:payouts_in_transit:EUR", "Payouts in transit", -1),
        AccountKind.PSP_CONNECTED: ("platform:psp_connected:EUR", "Sellers' PSP balances", 1),
        AccountKind.SUSPENSE: ("platform:suspense:EUR", "Reconciliation suspense", -1),
        AccountKind.WALLET_PENDING: ("seller:sel_9:pending:EUR", "Wallet, pending", -1),
        AccountKind.WALLET_AVAILABLE: ("seller:sel_9:available:EUR", "Wallet, available", -1),
    }
    assert set(expected) == set(AccountKind)
    for kind, (code, label, sign) in expected.items():
        account = L.Account(kind, "EUR", "sel_9" if kind in L.WALLET_KINDS else None)
        assert (account.code, account.label, account.sign, L.sign_of(kind)) == (code, label, sign, sign)
    assert L.wallet("sel_9", Funds.PENDING, "EUR").code == "seller:sel_9:pending:EUR"
    assert L.psp_balance(Funds.AVAILABLE, "EUR").code == "platform:psp_available:EUR"


def test_adjusting_entries_refuse_what_an_auditor_could_not_follow():
    assert _refused(adjustment, "adj:1", "USD", 0, AccountKind.SUSPENSE, "why") == (
        "an adjustment moves a non-zero integer of minor units, got 0")
    assert _refused(adjustment, "adj:1", "USD", 1.5, AccountKind.SUSPENSE, "why") == (
        "an adjustment moves a non-zero integer of minor units, got 1.5")
    assert _refused(adjustment, "adj:1", "USD", 5, AccountKind.FEE_REVENUE, "why") == (
        "adjustments go to the suspense or PSP-fee account, not fee_revenue")
    assert _refused(adjustment, "adj:1", "USD", 5, AccountKind.SUSPENSE, " \n") == "an adjusting entry needs a note"
    entry = adjustment("adj:1", "USD", 5, AccountKind.SUSPENSE, " PSP holds 0.05 more ")
    assert (entry.kind, entry.memo) == (EntryKind.ADJUSTMENT, "PSP holds 0.05 more")
    assert _effects(entry) == {"platform:psp_available:USD": 5, "platform:suspense:USD": 5}
