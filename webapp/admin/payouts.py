"""Admin: payouts across merchants — failed ones waiting to be paid again on top, with a Retry once the seller's
bank account is active again — then every payout, newest first."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from webapp.admin import bp
from webapp.admin.queries import failed_not_paid_again, merchant_names
from webapp.auth.access import admin_required
from webapp.domain.errors import DomainError
from webapp.domain.money import Money
from webapp.domain.payout_failures import failure_words
from webapp.domain.payouts import BankAccountStatus, PayoutStatus
from webapp.services import payout_reads, payouts
from webapp.services.payout_reads import PayoutFilter

PAYOUTS_PER_PAGE = 50
BANK_WAITING = {
    BankAccountStatus.ERRORED.value: "Waiting for the merchant to replace the seller's bank account.",
    BankAccountStatus.PENDING.value: "A new bank account is being registered at the payment provider.",
}


class RetryForm(FlaskForm):
    """Nothing but the CSRF token: the payout to retry is in the URL."""


@bp.get("/payouts")
@admin_required
def payouts_list():
    try:
        status = PayoutStatus(request.args["status"]) if request.args.get("status") else None
    except ValueError:
        abort(400)
    after = request.args.get("starting_after") or None
    page = payout_reads.list_payouts(PayoutFilter(status=status), limit=PAYOUTS_PER_PAGE, starting_after=after)
    failed = failed_not_paid_again() if after is None and status is None else []
    names = merchant_names([p.merchant_id for p in page.payouts] + [p.merchant_id for p in failed])
    return render_template("admin/payouts.html", page=page, failed=failed, names=names, status=status,
                           statuses=list(PayoutStatus), first_page=after is None, retry=RetryForm(),
                           failure_words=failure_words, bank_waiting=BANK_WAITING)


@bp.post("/payouts/<payout_id>/retry")
@admin_required
def retry_payout(payout_id: str):
    if not RetryForm().validate_on_submit():
        abort(400)
    failed = payout_reads.get_payout(payout_id)
    if failed is None:
        abort(404)
    seller = failed.seller
    if failed.status != PayoutStatus.FAILED.value:
        flash(f"Payout {failed.id} is {failed.status}: only a failed payout can be retried.", "error")
    elif seller.bank_account_status != BankAccountStatus.ACTIVE.value:
        flash(f"Not retried: {BANK_WAITING.get(seller.bank_account_status, 'The bank account is not active.')}",
              "error")
    else:
        try:
            new = payouts.pay_now(failed.merchant_id, failed.seller_account_id, source="admin_retry")
        except DomainError as exc:
            flash(f"Not retried: {exc.message}", "error")
        else:
            flash(f"Payout {new.id} of {Money(new.amount, new.currency)} to “{seller.display_name}” started "
                  f"(retry of {failed.id}).", "success")
    return redirect(url_for("admin.payouts_list"))
