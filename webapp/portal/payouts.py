"""Merchant portal: Payouts — the list (filters, keyset pages), one payout with its itemized statement, and the
statement as CSV."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from webapp.auth.access import merchant_required
from webapp.domain.payout_failures import failure_words
from webapp.domain.payouts import PayoutStatus
from webapp.portal import bp
from webapp.portal.statement_csv import statement_csv
from webapp.services import payout_reads
from webapp.services.payout_reads import PayoutFilter

PAYOUTS_PER_PAGE = 25
SOURCE_WORDS = {"schedule": "Payout schedule", "portal": "Pay out now (portal)", "api": "API (POST /v1/payouts)",
                "admin_retry": "Retried by the platform", "cli": "Command line"}


class PayoutFilterForm(FlaskForm):
    """The list's filters, read from the query string (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField("Status", choices=[SelectChoice("", "Any status")] + [
        SelectChoice(s.value, s.value.replace("_", " ").capitalize()) for s in PayoutStatus], default="")
    seller = SelectField("Seller", choices=[SelectChoice("", "Every seller")], default="")
    arrival_from = DateField("Arriving from", validators=[Optional()])
    arrival_to = DateField("Arriving until", validators=[Optional()])


@bp.get("/payouts")
@merchant_required
def payouts_list():
    merchant = current_user.merchant
    form = PayoutFilterForm(request.args)
    form.seller.choices = [SelectChoice("", "Every seller")] + [SelectChoice(s.id, s.display_name)
                                                                for s in merchant.seller_accounts]
    if not form.validate():
        return render_template("portal/payouts.html", merchant=merchant, form=form, page=None, query={},
                               first_page=True), 400
    where = PayoutFilter(merchant_id=merchant.id, seller_account_id=form.seller.data or None,
                         status=PayoutStatus(form.status.data) if form.status.data else None,
                         arrival_from=form.arrival_from.data, arrival_to=form.arrival_to.data)
    after = request.args.get("starting_after") or None
    page = payout_reads.list_payouts(where, limit=PAYOUTS_PER_PAGE, starting_after=after)
    query = {name: value for name, value in request.args.items() if name != "starting_after" and value}
    return render_template("portal/payouts.html", merchant=merchant, form=form, page=page, query=query,
                           first_page=after is None)


def _own_payout(payout_id: str):
    payout = payout_reads.get_payout(payout_id, merchant_id=current_user.merchant_id)
    if payout is None:
        abort(404)
    return payout


@bp.get("/payouts/<payout_id>")
@merchant_required
def payout(payout_id: str):
    found = _own_payout(payout_id)
    lines = payout_reads.statement(found.id)
    return render_template("portal/payout.html", payout=found, lines=lines, total=sum(line.amount for line in lines),
                           failure=failure_words(found.failure_code, found.failure_message)
                           if found.failure_code else None, source=SOURCE_WORDS.get(found.source, found.source))


@bp.get("/payouts/<payout_id>.csv")
@merchant_required
def payout_csv(payout_id: str):
    found = _own_payout(payout_id)
    body = statement_csv(found, payout_reads.statement(found.id))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="payout-{found.id}.csv"',
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})
