"""Merchant portal: the payments list (search, filters, keyset pages) and its CSV export.

Routes on the portal blueprint (webapp/portal/__init__.py imports this module); one payment's page is in
webapp/portal/payment_page.py.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_login import current_user

from webapp.auth.access import merchant_required
from webapp.dbtypes import utcnow
from webapp.domain.errors import DomainError
from webapp.domain.payment_words import LABELS, merchant_status
from webapp.portal import bp, payments_csv
from webapp.portal.payment_filters import PaymentFilterForm
from webapp.services import payment_search

PAYMENTS_PER_PAGE = 25


def abandoned_after() -> timedelta:
    return timedelta(seconds=current_app.config["CHECKOUT_ABANDONED_AFTER_SECONDS"])


@bp.app_template_global("merchant_status_of")
def merchant_status_of(event) -> tuple[str, str]:
    """(css name, label) of a checkout's status as the merchant reads it."""
    status = merchant_status(event.status, event.failure_code, event.updated_at, utcnow(), abandoned_after())
    return status.value, LABELS[status]


def _query_args() -> dict[str, str]:
    return {name: value for name, value in request.args.items() if name != "starting_after" and value}


@bp.get("/payments")
@merchant_required
def payments_list():
    merchant = current_user.merchant
    form = PaymentFilterForm(request.args).for_merchant(merchant)
    query = _query_args()
    if not form.validate():
        return render_template("portal/payments.html", merchant=merchant, form=form, page=None, query=query,
                               first_page=True), 400
    after = request.args.get("starting_after") or request.args.get("after") or None
    try:
        page = payment_search.page(form.query(merchant.id), PAYMENTS_PER_PAGE, after)
    except DomainError:
        abort(404)
    return render_template("portal/payments.html", merchant=merchant, form=form, page=page, query=query,
                           first_page=after is None)


@bp.get("/payments.csv")
@merchant_required
def payments_csv_export():
    merchant = current_user.merchant
    form = PaymentFilterForm(request.args).for_merchant(merchant)
    if not form.validate():
        abort(400, "Fix the filters on the payments page, then export again.")
    body = payments_csv.rows(form.query(merchant.id), abandoned_after())
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(stream_with_context(body), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="payments-{stamp}.csv"',
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})
