"""Merchant portal: seller wallets (pending and available per currency) and the ledger lines behind them.

Routes on the portal blueprint (webapp/portal/__init__.py imports this module).
"""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from webapp.auth.access import merchant_required, own_or_404
from webapp.domain.money import Money
from webapp.input_guard import query_int
from webapp.models import SellerAccount
from webapp.portal import bp
from webapp.services import balances

LINES_PER_PAGE = 25


@bp.app_template_filter("money")
def money(minor: int, currency: str) -> str:
    """`{{ 315|money('USD') }}` → "3.15 USD"."""
    return Money(int(minor), currency).format()


@bp.app_template_filter("signed_money")
def signed_money(minor: int, currency: str) -> str:
    """`+3.15 USD` / `-0.88 USD`: a line's effect on the balance it is on."""
    return ("+" if minor > 0 else "") + Money(int(minor), currency).format()



@bp.get("/wallets")
@merchant_required
def wallets() -> str:
    merchant = current_user.merchant
    sellers = merchant.seller_accounts
    found = balances.wallets(s.id for s in sellers)
    totals: dict[str, list[int]] = {}
    for rows in found.values():
        for wallet in rows:
            total = totals.setdefault(wallet.currency, [0, 0])
            total[0] += wallet.pending
            total[1] += wallet.available
    return render_template("portal/wallets.html", merchant=merchant, sellers=sellers, wallets=found,
                           totals=dict(sorted(totals.items())))


@bp.get("/sellers/<seller_id>/wallet")
@merchant_required
def wallet(seller_id: str) -> str:
    seller = own_or_404(SellerAccount, seller_id)
    before = query_int("before", low=0, high=2**62)
    page = balances.wallet_lines(seller.id, before=before, per_page=LINES_PER_PAGE)
    return render_template("portal/wallet.html", seller=seller, page=page, first_page=before is None,
                           wallets=balances.wallets([seller.id]).get(seller.id, []))
