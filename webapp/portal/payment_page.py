"""Merchant portal: one payment — buyer, attempts with their payment methods and declines, orders with the
sellers' amounts and the platform fee, refunds (and the Refund action), and the timeline in plain words.

The platform's own books (its processing fee at the PSP, its balance there) are not shown: a merchant sees what
concerns it. Routes on the portal blueprint (webapp/portal/__init__.py imports this module).
"""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from webapp.auth.access import merchant_required, own_or_404
from webapp.domain.errors import DomainError
from webapp.domain.money import Money
from webapp.domain.payment_words import FAILURE_WORDS, describe_activity
from webapp.domain.refunds import REASONS, RefundRequest
from webapp.extensions import db
from webapp.models import OrderFunds, PaymentActivity, PaymentEvent, PaymentOrder
from webapp.portal import bp
from webapp.services import crypto, payment_methods, refunds

REASON_LABELS = {"requested_by_customer": "Requested by the customer", "duplicate": "Duplicate payment",
                 "fraudulent": "Fraudulent"}


class RefundForm(FlaskForm):
    amount = StringField("Amount", validators=[Optional(), Length(max=20)])
    reason = SelectField("Reason", choices=[SelectChoice("", "No reason given")]
                         + [SelectChoice(r, REASON_LABELS[r]) for r in REASONS], default="requested_by_customer")
    # One key per rendered form: a double click or a resubmitted page replays the first refund, not a second.
    idempotency_key = HiddenField()


def _timeline(event: PaymentEvent) -> list[tuple[PaymentActivity, str]]:
    lines = []
    for activity in db.session.scalars(select(PaymentActivity).where(PaymentActivity.payment_event_id == event.id)
                                       .order_by(PaymentActivity.id)):
        words = describe_activity(activity.kind, activity.detail)
        if words is not None:
            lines.append((activity, words))
    return lines


@bp.get("/payments/<payment_event_id>")
@merchant_required
def payment(payment_event_id: str):
    event = own_or_404(PaymentEvent, payment_event_id)
    captured = {f.payment_order_id: f for f in db.session.scalars(
        select(OrderFunds).where(OrderFunds.payment_event_id == event.id))}
    found = refunds.for_payment(event.id)
    left = {order.id: refunds.refundable_amount(order) for order in event.orders}
    forms = {}
    for order in event.orders:
        form = RefundForm(prefix=f"refund-{order.id}", formdata=None)
        form.idempotency_key.data = secrets.token_urlsafe(16)
        if left[order.id]:
            form.amount.data = Money(left[order.id], order.currency).decimal_string
        forms[order.id] = form
    refunded = {order.id: sum(r.amount for r in found if r.payment_order_id == order.id
                              and r.status not in ("failed", "canceled")) for order in event.orders}
    return render_template(
        "portal/payment.html", event=event, captured=captured, refunds=found, left=left, forms=forms,
        refunded=refunded, timeline=_timeline(event), orders_by_id={o.id: o for o in event.orders},
        reason_labels=REASON_LABELS, buyer_email=crypto.decrypt(event.buyer_email_enc),
        buyer_name=crypto.decrypt_optional(event.buyer_name_enc), methods=payment_methods.of_checkout(event),
        failure=FAILURE_WORDS.get(event.failure_code or ""))


@bp.post("/payments/<payment_event_id>/orders/<order_id>/refund")
@merchant_required
def refund_order(payment_event_id: str, order_id: str):
    event = own_or_404(PaymentEvent, payment_event_id)
    order = db.session.get(PaymentOrder, order_id)
    if order is None or order.payment_event_id != event.id:
        abort(404)
    form = RefundForm(prefix=f"refund-{order.id}")
    if not form.validate_on_submit():
        abort(400)
    document = {"payment_order_id": order.payment_order_id}
    if form.amount.data and form.amount.data.strip():
        document["amount"] = form.amount.data.strip()
    if form.reason.data:
        document["reason"] = form.reason.data
    try:
        command = RefundRequest.from_json(document)
        result = refunds.request(current_user.merchant, event.checkout_id, command, form.idempotency_key.data or None,
                                 lambda r: {"id": r.id, "amount": Money(r.amount, r.currency).format()},
                                 source="portal")
    except DomainError as exc:
        flash(f"Refund not possible: {exc.message}", "error")
    else:
        flash(f"Refund of {result.body['amount']} requested for order {order.payment_order_id}. The seller's wallet "
              "was debited; the refund completes when the payment provider confirms it.", "success")
    return redirect(url_for("portal.payment", payment_event_id=event.id))
