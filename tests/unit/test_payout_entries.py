"""The ledger's pay-out entries, and seller-account requests."""

import pytest

from webapp.domain import ledger_payouts as rules
from webapp.domain.errors import ValidationError
from webapp.domain.ledger import AccountKind, EntryKind
from webapp.domain.payouts import Interval
from webapp.domain.sellers import NewSeller, SellerChanges


def _deltas(entry):
    return {(a.kind, a.seller_account_id): change for a, change in entry.deltas().items()}


def test_a_payout_moves_the_wallet_to_in_transit_then_to_the_bank_through_the_sellers_psp_account():
    assert _deltas(rules.payout_reserved("p1", "s1", "USD", 500)) == {
        (AccountKind.WALLET_AVAILABLE, "s1"): -500, (AccountKind.PAYOUTS_IN_TRANSIT, None): 500}
    assert _deltas(rules.payout_transferred("p1", "USD", 500)) == {
        (AccountKind.PSP_CONNECTED, None): 500, (AccountKind.PSP_AVAILABLE, None): -500}
    assert _deltas(rules.payout_paid("p1", "USD", 500)) == {
        (AccountKind.PAYOUTS_IN_TRANSIT, None): -500, (AccountKind.PSP_CONNECTED, None): -500}


def test_a_failed_payout_comes_back_to_the_wallet_and_its_transfer_to_the_platform():
    assert _deltas(rules.payout_unpaid("p1", "USD", 500)) == {
        (AccountKind.PSP_CONNECTED, None): 500, (AccountKind.PAYOUTS_IN_TRANSIT, None): 500}
    assert _deltas(rules.payout_returned("p1", "s1", "USD", 500)) == {
        (AccountKind.PAYOUTS_IN_TRANSIT, None): -500, (AccountKind.WALLET_AVAILABLE, "s1"): 500}
    assert _deltas(rules.payout_reversed("p1", "USD", 500)) == {
        (AccountKind.PSP_AVAILABLE, None): 500, (AccountKind.PSP_CONNECTED, None): -500}


def test_each_payout_event_has_its_own_key_and_kind():
    entries = [rules.payout_reserved("p1", "s1", "USD", 1), rules.payout_transferred("p1", "USD", 1),
               rules.payout_paid("p1", "USD", 1), rules.payout_unpaid("p1", "USD", 1),
               rules.payout_returned("p1", "s1", "USD", 1), rules.payout_reversed("p1", "USD", 1)]
    assert len({e.key for e in entries}) == 6 and all("p1" in e.key for e in entries)
    assert [e.kind for e in entries] == [EntryKind.PAYOUT_RESERVED, EntryKind.PAYOUT_TRANSFERRED,
                                         EntryKind.PAYOUT_PAID, EntryKind.PAYOUT_UNPAID, EntryKind.PAYOUT_RETURNED,
                                         EntryKind.PAYOUT_REVERSED]


@pytest.mark.parametrize("amount", [0, -1, 1.5, "5"])
def test_payout_amounts_are_positive_integers(amount):
    with pytest.raises(ValueError):
        rules.payout_reserved("p1", "s1", "USD", amount)
    with pytest.raises(ValueError):
        rules.payout_paid("p1", "USD", amount)


def test_a_seller_request_is_read_strictly():
    seller = NewSeller.from_json({"display_name": "  Potter  Co ", "email": "Potter@Example.com", "currency": "eur",
                                  "iban": "de89 3704 0044 0532 0130 00", "minimum_payout_amount": "25.50",
                                  "payout_schedule": {"interval": "monthly", "monthly_anchor": 31}})
    assert (seller.display_name, seller.email, seller.currency, seller.iban) == (
        "Potter Co", "potter@example.com", "EUR", "DE89370400440532013000")
    assert seller.minimum_payout_minor == 2550 and seller.schedule.interval is Interval.MONTHLY
    assert seller.country_or_iban == "DE"


@pytest.mark.parametrize(("document", "param", "code"), [
    ({"display_name": "A", "currency": "USD"}, "iban", "parameter_missing"),
    ({"display_name": "A", "currency": "USD", "iban": "DE00370400440532013000"}, "iban", "iban_invalid"),
    ({"display_name": "", "currency": "USD", "iban": "DE89370400440532013000"}, "display_name", "parameter_missing"),
    ({"display_name": "A", "currency": "XXX", "iban": "DE89370400440532013000"}, "currency", "currency_invalid"),
    ({"display_name": "A", "currency": "USD", "iban": "DE89370400440532013000", "email": "nope"}, "email",
     "parameter_invalid"),
    ({"display_name": "A", "currency": "USD", "iban": "DE89370400440532013000", "country": "DEU"}, "country",
     "parameter_invalid"),
    ({"display_name": "A", "currency": "JPY", "iban": "DE89370400440532013000", "minimum_payout_amount": "1.5"},
     "minimum_payout_amount", "amount_invalid"),
    ({"display_name": "A", "currency": "USD", "iban": "DE89370400440532013000", "colour": "red"}, "colour",
     "parameter_unknown"),
])
def test_bad_seller_requests_name_the_field_and_the_reason(document, param, code):
    with pytest.raises(ValidationError) as refused:
        NewSeller.from_json(document)
    assert (refused.value.param, refused.value.code) == (param, code)


def test_an_update_changes_only_what_it_names():
    assert SellerChanges.from_json({}, "USD") == SellerChanges()
    changes = SellerChanges.from_json({"iban": "NL91ABNA0417164300", "minimum_payout_amount": "0"}, "USD")
    assert changes.iban == "NL91ABNA0417164300" and changes.minimum_payout_minor == 0 and changes.display_name is None
    with pytest.raises(ValidationError) as refused:
        SellerChanges.from_json({"currency": "EUR"}, "USD")
    assert refused.value.code == "parameter_unknown"
