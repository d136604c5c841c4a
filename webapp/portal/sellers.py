"""Merchant portal: seller accounts — adding one, its page (account state, why payouts are paused, bank account,
schedule, balances, payouts), editing it, replacing its bank account, Pay out now, enabling and disabling it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from webapp.auth.access import merchant_required, own_or_404
from webapp.domain.errors import DomainError
from webapp.domain.money import Money
from webapp.domain.payouts import PAUSED_WORDS, AccountState, BankAccountStatus, PausedReason, paused_reason
from webapp.models import SellerAccount
from webapp.portal import bp
from webapp.portal.forms import ConfirmForm
from webapp.portal.seller_forms import BankAccountForm, NewSellerForm, SellerEditForm, show_error
from webapp.services import payout_reads, payouts
from webapp.services import sellers as seller_service
from webapp.services.payout_reads import PayoutFilter

SELLER_PAYOUTS = 10


@bp.route("/sellers", methods=["GET", "POST"])
@merchant_required
def sellers():
    merchant = current_user.merchant
    form = NewSellerForm()
    status = 200
    if form.validate_on_submit():
        try:
            seller = seller_service.create(merchant, form.command())
        except DomainError as exc:
            show_error(form, exc)
            status = 400
        else:
            flash(f"Seller account “{seller.display_name}” added. Its account at the payment provider is being "
                  "set up.", "success")
            return redirect(url_for("portal.seller", seller_id=seller.id))
    elif form.errors:
        status = 400
    else:
        form.show(seller_service.merchant_schedule(merchant), merchant.default_minimum_payout_minor or 0,
                  form.currency.data or "USD")
    available = payout_reads.available_in_own_currency([s.id for s in merchant.seller_accounts])
    paused = {s.id: paused_reason(state=AccountState(s.account_state), bank=BankAccountStatus(s.bank_account_status),
                                  available=available.get(s.id, 0), minimum=s.minimum_payout_minor)
              for s in merchant.seller_accounts}
    return render_template("portal/sellers.html", merchant=merchant, sellers=merchant.seller_accounts,
                           form=form, paused=paused, paused_words=PAUSED_WORDS,
                           schedule_of=seller_service.schedule_of), status


def _seller_page(seller: SellerAccount, edit: SellerEditForm | None = None, bank: BankAccountForm | None = None,
                 status: int = 200):
    balances = payout_reads.seller_balances(seller)
    reason = payout_reads.paused(seller, balances)
    if edit is None:
        edit = SellerEditForm(formdata=None, display_name=seller.display_name, email=seller.email)
        edit.show(seller_service.schedule_of(seller), seller.minimum_payout_minor, seller.currency)
    recent = payout_reads.list_payouts(PayoutFilter(merchant_id=seller.merchant_id, seller_account_id=seller.id),
                                       limit=SELLER_PAYOUTS)
    return render_template(
        "portal/seller.html", seller=seller, confirm=ConfirmForm(), edit=edit,
        bank=bank or BankAccountForm(formdata=None), balances=balances, reason=reason,
        reason_words=PAUSED_WORDS.get(reason) if reason else None, requirements=_requirements(seller),
        schedule=seller_service.schedule_of(seller), payouts=recent,
        manual=seller.payout_interval == "manual", PausedReason=PausedReason), status


def _requirements(seller: SellerAccount) -> list[str]:
    return [name for name in (seller.requirements_due or "").split(",") if name]


@bp.get("/sellers/<seller_id>")
@merchant_required
def seller(seller_id: str):
    return _seller_page(own_or_404(SellerAccount, seller_id))


@bp.post("/sellers/<seller_id>/edit")
@merchant_required
def edit_seller(seller_id: str):
    seller = own_or_404(SellerAccount, seller_id)
    form = SellerEditForm()
    if not form.validate_on_submit():
        return _seller_page(seller, edit=form, status=400)
    try:
        seller_service.update(current_user.merchant, seller.id, form.changes(seller.currency))
    except DomainError as exc:
        show_error(form, exc)
        return _seller_page(seller, edit=form, status=400)
    flash(f"“{seller.display_name}” saved. Payouts now follow: {seller_service.schedule_of(seller).describe()}.",
          "success")
    return redirect(url_for("portal.seller", seller_id=seller.id))


@bp.post("/sellers/<seller_id>/bank-account")
@merchant_required
def replace_bank_account(seller_id: str):
    seller = own_or_404(SellerAccount, seller_id)
    form = BankAccountForm()
    if not form.validate_on_submit():
        return _seller_page(seller, bank=form, status=400)
    try:
        seller_service.update(current_user.merchant, seller.id, form.changes())
    except DomainError as exc:
        show_error(form, exc)
        return _seller_page(seller, bank=form, status=400)
    flash(f"New bank account {seller.masked_iban} saved. Payouts resume once the payment provider has registered "
          "it (usually within seconds).", "success")
    return redirect(url_for("portal.seller", seller_id=seller.id))


@bp.post("/sellers/<seller_id>/payout")
@merchant_required
def pay_now(seller_id: str):
    seller = own_or_404(SellerAccount, seller_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        payout = payouts.pay_now(current_user.merchant_id, seller.id, source="portal")
    except DomainError as exc:
        flash(f"No payout for “{seller.display_name}”: {exc.message}", "error")
        return redirect(url_for("portal.seller", seller_id=seller.id))
    flash(f"Payout of {Money(payout.amount, payout.currency)} to “{seller.display_name}” started. It arrives in "
          "the bank account in a few days; this page follows it.", "success")
    return redirect(url_for("portal.payout", payout_id=payout.id))


@bp.post("/sellers/<seller_id>/status/<status>")
@merchant_required
def seller_status(seller_id: str, status: str):
    seller = own_or_404(SellerAccount, seller_id)
    if not ConfirmForm().validate_on_submit() or status not in ("active", "disabled"):
        abort(400)
    seller_service.set_status(current_user.merchant, seller.id, status)
    flash(f"“{seller.display_name}” is now {status}.", "success")
    return redirect(url_for("portal.seller", seller_id=seller.id))
