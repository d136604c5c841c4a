"""Admin: payments across merchants (search by any id or the buyer's email, filter by status, merchant and day)
and one payment's whole timeline. Queries live in webapp.services.admin_payment_reads."""

from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import select

from webapp.admin import bp
from webapp.admin.filters import Filters
from webapp.auth.access import admin_required
from webapp.domain.errors import DomainError
from webapp.domain.payments import OrderStatus
from webapp.extensions import db
from webapp.models import Merchant
from webapp.services import admin_payment_reads
from webapp.services.admin_payment_reads import PaymentQuery


@bp.get("/payments")
@admin_required
def payments_search():
    args = Filters(request.args)
    query = PaymentQuery(text=args.text("q", 320), status=args.choice("status", OrderStatus, "Status"),
                         merchant_id=args.text("merchant", 40), since=args.day("since", "From"),
                         until=args.day("until", "To"))
    after = args.text("after", 500)
    try:
        page = admin_payment_reads.search(query, after=after)
    except DomainError as exc:
        args.errors.append(exc.message)
        page = admin_payment_reads.search(query)
        after = None
    merchants = db.session.execute(select(Merchant.id, Merchant.name).order_by(Merchant.name)).all()
    filtered = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("admin/payments.html", page=page, query=query, merchants=merchants,
                           statuses=list(OrderStatus), errors=args.errors, first_page=after is None,
                           filtered=filtered), 400 if args.errors else 200


@bp.get("/payments/<payment_id>")
@admin_required
def payment(payment_id: str):
    found = admin_payment_reads.timeline(payment_id)
    if found is None:
        abort(404)
    return render_template("admin/payment.html", t=found)
