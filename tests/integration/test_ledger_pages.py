"""Portal and admin pages for money: payments, a payment's entries/refunds/timeline, the Refund action, wallets,
ledger lines, the admin ledger page; and the `flask ledger` / `flask merchants set-fees` commands."""

import re

from sqlalchemy import func, select, text

from tests.support import factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support.forms import csrf_token, login
from webapp.extensions import db
from webapp.models import LedgerAccount, Merchant, Refund
from webapp.portal import wallets as wallet_pages


def _shop(client, email: str = "owner@money.example.com"):
    merchant = factories.merchant(email=email)
    sellers = [factories.seller(merchant, index=i) for i in range(2)]
    return merchant, sellers, pay.Api(client, factories.api_key(merchant))


def _page(client, path: str) -> str:
    db.session.rollback()
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _field(html: str, name_suffix: str) -> tuple[str, str]:
    """(name, value) of the first input whose name ends with `name_suffix`."""
    match = re.search(r'<input[^>]*name="([^"]*' + re.escape(name_suffix) + r')"[^>]*value="([^"]*)"', html)
    assert match, name_suffix
    return match.group(1), match.group(2)


def test_payment_page_shows_orders_entries_timeline_and_refunds_through_the_form(client, gateway_psp):
    _, sellers, api = _shop(client)
    event = books.paid_checkout(client, api, sellers, gateway_psp.url)
    login(client, "owner@money.example.com", factories.PASSWORD)

    listing = _page(client, "/portal/payments")
    assert event.checkout_id in listing and "5.15 USD" in listing
    html = _page(client, f"/portal/payments/{event.id}")
    assert "Payment received" in html and "The buyer pressed Pay." in html  # the timeline in words
    assert "Visa •••• 4242" in html  # the payment method, from the PSP (never the number)
    # The platform's own books are not the merchant's: no PSP fee, no internal account, no raw statuses.
    assert "processing fee" not in html.lower() and "EXECUTING" not in html and f"seller:{sellers[0].id}" not in html
    assert "0.39 USD" in html and "2.76 USD" in html  # the platform fee and what the seller receives (3.15 USD order)
    order = event.orders[0]
    form = html.split(f'/orders/{order.id}/refund"')[1]
    token_name, token = _field(form, "csrf_token")
    key_name, key = _field(form, "idempotency_key")
    amount_name, amount = _field(form, "amount")
    assert amount == "3.15"
    data = {token_name: token, key_name: key, amount_name: "1.00", amount_name.replace("amount", "reason"): "duplicate"}
    response = client.post(f"/portal/payments/{event.id}/orders/{order.id}/refund", data=data)
    assert response.status_code == 302
    again = client.post(f"/portal/payments/{event.id}/orders/{order.id}/refund", data=data)  # a double click
    assert again.status_code == 302
    html = _page(client, f"/portal/payments/{event.id}")
    assert "Refund of 1.00 USD requested" in html
    found = db.session.scalars(select(Refund)).all()
    assert len(found) == 1 and found[0].source == "portal" and found[0].reason == "duplicate"
    assert found[0].id in html  # in the refunds table and the timeline
    books.drain_money(books.refunds.CREATE_TOPIC)
    assert "succeeded" in _page(client, f"/portal/payments/{event.id}")

    too_much = dict(data, **{key_name: "another-key", amount_name: "9.00"})
    client.post(f"/portal/payments/{event.id}/orders/{order.id}/refund", data=too_much)
    assert "Refund not possible: Refund amount 9.00 USD is more than the 2.15 USD left" in _page(
        client, f"/portal/payments/{event.id}")
    without_csrf = {k: v for k, v in data.items() if k != token_name}
    assert client.post(f"/portal/payments/{event.id}/orders/{order.id}/refund", data=without_csrf).status_code == 400


def test_wallet_pages_show_balances_and_paginated_lines(client, gateway_psp, monkeypatch):
    _, sellers, api = _shop(client)
    books.paid_checkout(client, api, sellers, gateway_psp.url)
    books.paid_checkout(client, api, sellers, gateway_psp.url, amounts=("10.00", "1.00"))
    login(client, "owner@money.example.com", factories.PASSWORD)
    overview = _page(client, "/portal/wallets")
    assert books.wallet(sellers[0].id) == (276 + 940, 0)  # 3.15 - 0.39 and 10.00 - 0.60
    assert "12.16 USD" in overview and "14.47 USD pending" in overview  # the seller, and all sellers
    monkeypatch.setattr(wallet_pages, "LINES_PER_PAGE", 1)
    first = _page(client, f"/portal/sellers/{sellers[0].id}/wallet")
    assert "+9.40 USD" in first and "+2.76 USD" not in first and "Older lines" in first
    older = re.search(r'href="([^"]*before=\d+)"', first).group(1).replace("&amp;", "&")
    second = _page(client, older)
    assert "+2.76 USD" in second and "Older lines" not in second
    assert "Balances and ledger lines" in _page(client, f"/portal/sellers/{sellers[0].id}")


def test_portal_money_pages_are_scoped_to_the_merchant(client, gateway_psp):
    _, sellers, api = _shop(client)
    event = books.paid_checkout(client, api, sellers, gateway_psp.url)
    factories.merchant(email="other@money.example.com")
    login(client, "other@money.example.com", factories.PASSWORD)
    assert client.get(f"/portal/payments/{event.id}").status_code == 404
    assert client.get(f"/portal/sellers/{sellers[0].id}/wallet").status_code == 404
    token = csrf_token(_page(client, "/portal/payments"))
    assert client.post(f"/portal/payments/{event.id}/orders/{event.orders[0].id}/refund",
                       data={"csrf_token": token}).status_code == 404
    assert event.checkout_id not in _page(client, "/portal/payments")


def test_admin_ledger_page_and_merchant_fee(client, gateway_psp):
    merchant, sellers, api = _shop(client)
    books.paid_checkout(client, api, sellers, gateway_psp.url)
    factories.admin()
    login(client, "admin@platform.example.com", factories.PASSWORD)
    html = _page(client, "/admin/ledger")
    assert 'data-testid="ledger-state">clean' in html
    assert "PSP balance, pending" in html and "Platform fee revenue" in html and "0.75 USD" in html
    assert "Every journal entry balances per currency" in html
    fee = _page(client, f"/admin/merchants/{merchant.id}")
    assert "3% + 30 minor units" in fee and "platform default" in fee


def test_merchants_cannot_open_the_admin_ledger(client):
    _shop(client)
    login(client, "owner@money.example.com", factories.PASSWORD)
    assert client.get("/admin/ledger").status_code == 403


def test_cli_verify_balances_and_set_fees(app, client, gateway_psp):
    merchant, sellers, api = _shop(client)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["merchants", "set-fees", "--merchant", merchant.name, "--bps", "250", "--fixed", "0"])
    assert result.exit_code == 0 and "2.5% + 0 minor units" in result.output, result.output
    event = books.paid_checkout(client, api, sellers, gateway_psp.url, amounts=("10.00",))
    assert books.wallet(sellers[0].id) == (975, 0)  # 2.5% of 10.00
    assert runner.invoke(args=["merchants", "set-fees", "--merchant", merchant.name, "--bps", "20000"]).exit_code != 0
    assert runner.invoke(args=["merchants", "set-fees", "--merchant", merchant.name]).exit_code != 0
    result = runner.invoke(args=["merchants", "set-fees", "--merchant", merchant.name, "--default"])
    assert result.exit_code == 0 and db.session.get(Merchant, merchant.id).fee_bps is None

    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0 and "Clean: every invariant holds." in result.output, result.output
    result = runner.invoke(args=["ledger", "balances"])
    assert result.exit_code == 0 and "PSP balance, pending" in result.output and "Seller wallets (all)" in result.output
    result = runner.invoke(args=["ledger", "balances", "--merchant", merchant.id])
    assert result.exit_code == 0 and "9.75 USD" in result.output, result.output

    account = f"seller:{sellers[0].id}:pending:USD"
    db.session.execute(text("UPDATE ledger_accounts SET balance = balance + 1 WHERE id = :id"), {"id": account})
    db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert f"account {account}: cached balance 9.76 USD, its postings sum to 9.75 USD" in result.output
    db.session.execute(text("UPDATE ledger_accounts SET balance = balance - 1 WHERE id = :id"), {"id": account})
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(LedgerAccount)) > 0
    assert event.status == "SUCCESS"
