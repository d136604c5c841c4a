"""The portal's seller pages and payout settings: adding a seller with its schedule and minimum, the seller page
(account state, why payouts are paused, bank account, schedule, balances), editing, replacing the bank account,
Pay out now refused with its reason, the merchant's defaults; and another merchant's sellers are not found."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from tests.support import factories
from tests.support.forms import csrf_token, login
from webapp.domain.payouts import PAUSED_WORDS, PausedReason
from webapp.extensions import db
from webapp.models import Merchant, Payout, SellerAccount


def _signed_in(client, email: str = "owner@sellers.example.com") -> Merchant:
    merchant = factories.merchant(email=email)
    login(client, email, factories.PASSWORD)
    return merchant


def _page(client, path: str, status: int = 200) -> str:
    db.session.rollback()
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def _post(client, path: str, data: dict, page: str | None = None):
    token = csrf_token(_page(client, page or path))
    db.session.rollback()
    return client.post(path, data={**data, "csrf_token": token})


def _selected(page: str, name: str) -> str:
    select_html = re.search(r'<select[^>]*name="' + name + r'".*?</select>', page, re.S)
    assert select_html, name
    chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html.group(0))
    assert chosen, f"nothing selected in {name}"
    return chosen.group(1) or chosen.group(2)


def _value(page: str, name: str) -> str:
    tag = re.search(r'<input[^>]*name="' + name + r'"[^>]*>', page)
    assert tag, name
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def stat(page: str, testid: str) -> str:
    """The figure of a `.stat` box on the page."""
    match = re.search(r'data-testid="' + testid + r'"><span class="stat-value[^"]*">([^<]*)<', page)
    assert match, testid
    return match.group(1)


def _seller(merchant_id: str) -> SellerAccount:
    db.session.rollback()
    found = db.session.scalar(select(SellerAccount).where(SellerAccount.merchant_id == merchant_id)
                              .order_by(SellerAccount.created_at.desc()))
    assert found is not None
    return found


def test_add_seller_with_email_country_schedule_and_minimum(client):
    merchant = _signed_in(client)
    response = _post(client, "/portal/sellers", {
        "display_name": "Aurora Ceramics", "email": "Studio@Aurora.example.com", "country": "fr",
        "iban": "de89 3704 0044 0532 0130 00", "currency": "EUR", "interval": "monthly", "weekly_anchor": "monday",
        "monthly_anchor": "31", "delay_days": "2", "minimum_payout_amount": "25.50"})
    assert response.status_code == 302
    seller = _seller(merchant.id)
    assert response.headers["Location"].endswith(f"/portal/sellers/{seller.id}")
    assert (seller.display_name, seller.email, seller.country, seller.iban, seller.currency) == (
        "Aurora Ceramics", "studio@aurora.example.com", "FR", "DE89370400440532013000", "EUR")
    assert (seller.payout_interval, seller.payout_weekly_anchor, seller.payout_monthly_anchor,
            seller.payout_delay_days, seller.minimum_payout_minor) == ("monthly", None, 31, 2, 2550)
    listed = _page(client, "/portal/sellers")
    assert "Aurora Ceramics" in listed and "paused" in listed and "Onboarding" in listed


def test_add_seller_errors_show_under_their_fields_and_write_nothing(client):
    _signed_in(client)
    cases = [({"minimum_payout_amount": "2.505"}, "more decimals than USD allows"),
             ({"email": "not-an-address"}, "Invalid email address"),
             ({"country": "D1"}, "two-letter ISO 3166 code"),
             ({"monthly_anchor": "40", "interval": "monthly"}, "Number must be between 1 and 31"),
             ({"delay_days": "-1"}, "Number must be between 0 and 365"),
             ({"iban": "DE00 1234"}, "Invalid IBAN")]
    for change, message in cases:
        data = {"display_name": "Broken", "iban": "DE89370400440532013000", "currency": "USD", "interval": "daily",
                "weekly_anchor": "monday", "monthly_anchor": "1", "delay_days": "0", **change}
        response = _post(client, "/portal/sellers", data)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and message in page, (change, page[-3000:])
        field = next(iter(change))
        assert re.search(rf'<div class="field has-error">\s*<label for="{field}"', page), field
    assert db.session.scalar(select(SellerAccount)) is None


def test_payout_settings_are_the_defaults_of_new_sellers(client):
    merchant = _signed_in(client)
    settings = _page(client, "/portal/payout-settings")
    assert _selected(settings, "interval") == "daily" and "Every day" in settings
    response = _post(client, "/portal/payout-settings", {"interval": "weekly", "weekly_anchor": "friday",
                                                        "monthly_anchor": "1", "delay_days": "3",
                                                        "minimum_payout_amount": "25.00"})
    assert response.status_code == 302
    db.session.rollback()
    assert "Every Friday, 3 days after funds are available" in _page(client, "/portal/payout-settings")
    stored = db.session.get(Merchant, merchant.id)
    assert stored.default_minimum_payout_minor == 2500

    form = _page(client, "/portal/sellers")  # the add form starts from the defaults
    assert _selected(form, "interval") == "weekly" and _selected(form, "weekly_anchor") == "friday"
    assert _value(form, "delay_days") == "3" and _value(form, "minimum_payout_amount") == "25.00"

    refused = _post(client, "/portal/payout-settings", {"interval": "monthly", "monthly_anchor": "",
                                                       "delay_days": "0", "minimum_payout_amount": "ten"})
    assert refused.status_code == 400 and "is not a positive decimal number" in refused.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Merchant, merchant.id).default_minimum_payout_minor == 2500


def test_seller_page_says_in_plain_words_why_payouts_are_paused(client):
    merchant = _signed_in(client)
    seller = factories.seller(merchant, name="Nordic Knitwear")
    page = _page(client, f"/portal/sellers/{seller.id}")
    assert PAUSED_WORDS[PausedReason.ONBOARDING] in page
    assert "DE89 •••• 3000" in page and "Every day" in page
    for side in ("pending", "available", "in-transit"):
        assert stat(page, f"balance-USD-{side}") == "0.00 USD"

    # What the PSP's account.updated and a failed payout write on the row (webapp.services.sellers._mirror).
    seller.psp_account_id, seller.bank_account_status = "acct_test_1", "active"
    seller.account_state, seller.requirements_due = "restricted", "individual.verification.document,tos_acceptance.date"
    db.session.commit()
    page = _page(client, f"/portal/sellers/{seller.id}")
    assert PAUSED_WORDS[PausedReason.REQUIREMENTS_DUE] in page
    assert "<code>individual.verification.document</code>" in page and "<code>tos_acceptance.date</code>" in page

    seller.bank_account_status = "errored"
    db.session.commit()
    page = _page(client, f"/portal/sellers/{seller.id}")
    assert PAUSED_WORDS[PausedReason.BANK_ACCOUNT_ERRORED] in page and 'href="#replace-bank-account"' in page

    seller.bank_account_status, seller.account_state, seller.requirements_due = "active", "active", ""
    seller.minimum_payout_minor = 1000
    db.session.commit()
    page = _page(client, f"/portal/sellers/{seller.id}")
    assert PAUSED_WORDS[PausedReason.BELOW_MINIMUM] in page and "10.00 USD" in page

    seller.minimum_payout_minor = 0
    db.session.commit()
    page = _page(client, f"/portal/sellers/{seller.id}")
    assert 'data-testid="payouts-active"' in page and "Payouts paused" not in page


def test_edit_seller_schedule_and_minimum(client):
    merchant = _signed_in(client)
    seller = factories.seller(merchant)
    page = f"/portal/sellers/{seller.id}"
    response = _post(client, f"{page}/edit", {"display_name": "  Aurora   Studio ", "email": "a@aurora.example.com",
                                              "interval": "manual", "weekly_anchor": "monday", "monthly_anchor": "1",
                                              "delay_days": "0", "minimum_payout_amount": "5"}, page=page)
    assert response.status_code == 302
    db.session.rollback()
    stored = db.session.get(SellerAccount, seller.id)
    assert (stored.display_name, stored.email, stored.payout_interval, stored.minimum_payout_minor) == (
        "Aurora Studio", "a@aurora.example.com", "manual", 500)
    shown = _page(client, page)
    assert "Manual: only when you press Pay out now" in shown
    assert 'class="card callout" data-testid="pay-now-card"' in shown  # the button stands out

    refused = _post(client, f"{page}/edit", {"display_name": "", "interval": "weekly", "weekly_anchor": "someday",
                                             "delay_days": "0"}, page=page)
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "This field is required." in body and "Not a valid choice." in body
    db.session.rollback()
    assert db.session.get(SellerAccount, seller.id).display_name == "Aurora Studio"


def test_replace_bank_account(client):
    merchant = _signed_in(client)
    seller, other = factories.seller(merchant, index=0), factories.seller(merchant, index=1)
    page = f"/portal/sellers/{seller.id}"
    response = _post(client, f"{page}/bank-account", {"iban": "gb82 west 1234 5698 7654 32"}, page=page)
    assert response.status_code == 302
    db.session.rollback()
    stored = db.session.get(SellerAccount, seller.id)
    assert stored.iban == "GB82WEST12345698765432" and stored.bank_account_version == 2
    shown = _page(client, page)
    assert "New bank account GB82 •••• 5432 saved" in shown and "GB82 •••• 5432" in shown

    invalid = _post(client, f"{page}/bank-account", {"iban": "GB00 WEST 1234"}, page=page)
    assert invalid.status_code == 400 and "Invalid IBAN" in invalid.get_data(as_text=True)
    taken = _post(client, f"{page}/bank-account", {"iban": other.iban}, page=page)
    assert taken.status_code == 400 and "already has a seller account with that IBAN" in taken.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(SellerAccount, seller.id).iban == "GB82WEST12345698765432"


def test_pay_now_refused_shows_why(client):
    merchant = _signed_in(client)
    seller = factories.seller(merchant)
    page = f"/portal/sellers/{seller.id}"
    response = _post(client, f"{page}/payout", {}, page=page)
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    shown = _page(client, page)
    assert 'class="flash flash-error"' in shown and PAUSED_WORDS[PausedReason.ONBOARDING] in shown
    assert db.session.scalar(select(Payout)) is None
    assert client.post(f"{page}/payout", data={}).status_code == 400  # no CSRF token


def test_another_merchants_seller_is_not_found(client):
    _signed_in(client)
    theirs = factories.seller(factories.merchant(), name="Not yours")
    own_page = "/portal/sellers"
    for path in (f"/portal/sellers/{theirs.id}", f"/portal/sellers/{theirs.id}/wallet"):
        assert client.get(path).status_code == 404
    for path, data in ((f"/portal/sellers/{theirs.id}/edit", {"display_name": "Mine now", "interval": "daily",
                                                              "delay_days": "0"}),
                       (f"/portal/sellers/{theirs.id}/bank-account", {"iban": "NL91ABNA0417164300"}),
                       (f"/portal/sellers/{theirs.id}/payout", {}),
                       (f"/portal/sellers/{theirs.id}/status/disabled", {})):
        assert _post(client, path, data, page=own_page).status_code == 404, path
    db.session.rollback()
    stored = db.session.get(SellerAccount, theirs.id)
    assert (stored.display_name, stored.iban, stored.status) == ("Not yours", "DE89370400440532013000", "active")
    assert "Not yours" not in _page(client, "/portal/sellers")
    assert "Not yours" not in _page(client, "/portal/payouts")
    assert _page(client, f"/portal/payouts?seller={theirs.id}", status=400).count("Not yours") == 0
