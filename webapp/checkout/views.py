"""Our hosted checkout: review and Pay, then the PSP's page, then back here for the live result.

The checkout's id is long and random: the URL itself is the buyer's capability, as with the PSP's own
session URLs. Card details are never asked for here; the PSP's hosted page collects them.
"""

from __future__ import annotations

from collections import OrderedDict

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from webapp.domain.money import Money
from webapp.domain.payments import RESUME
from webapp.extensions import limiter
from webapp.live.views import token_for
from webapp.models import PaymentEvent
from webapp.services import checkout, crypto, payment_methods

bp = Blueprint("checkout", __name__, url_prefix="/checkout")
limiter.exempt(bp)


class PayForm(FlaskForm):
    """Only the CSRF token: the Pay button changes state."""


def _event_or_404(payment_event_id: str) -> PaymentEvent:
    event = checkout.find(payment_event_id)
    if event is None:
        abort(404, "This checkout link is not valid. Ask the shop for a new one.")
    return event


def _grouped_orders(event: PaymentEvent) -> list[dict]:
    groups: OrderedDict[str, dict] = OrderedDict()
    for order in event.orders:
        group = groups.setdefault(order.seller_account_id, {"seller": order.seller.display_name, "orders": [],
                                                             "subtotal": 0})
        group["orders"].append({"label": order.description or order.payment_order_id,
                                "amount": Money(order.amount, order.currency).format()})
        group["subtotal"] += order.amount
    for group in groups.values():
        group["subtotal"] = Money(group["subtotal"], event.currency).format()
    return list(groups.values())


def _render(event: PaymentEvent, *, returning: bool = False, status: int = 200):
    state = checkout.state_of(event)
    canceled = request.args.get("canceled") == "1" and state.state in ("redirect", "ready")
    paying = request.args.get("paying") == "1"
    if state.state == "redirect" and not (paying or returning or canceled):
        state = RESUME  # back on this page while the payment page is open: say so, and offer to continue
    # What the buyer paid with (paid) or must transfer (pending), from the PSP; only for those pages.
    methods = payment_methods.of_checkout(event) if state.state in ("paid", "pending") else None
    transfer = None
    if methods is not None and state.state == "pending":
        transfer = next((a.payments.bank_transfer for a in reversed(methods.attempts)
                         if a.payments and a.payments.bank_transfer), None)
    return render_template(
        "checkout/page.html", event=event, state=state, canceled=canceled, returning=returning,
        paying=paying, groups=_grouped_orders(event),
        total=Money(event.amount_total, event.currency).format(), buyer_email=crypto.decrypt(event.buyer_email_enc),
        merchant=event.merchant.name, live_token=token_for(event.id), form=PayForm(),
        message=checkout.status_message(event, state), paid_with=methods.paid_with if methods else None,
        transfer=transfer,
    ), status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.get("/<payment_event_id>")
def page(payment_event_id: str):
    return _render(_event_or_404(payment_event_id))


@bp.post("/<payment_event_id>/pay")
def pay(payment_event_id: str):
    if not PayForm().validate_on_submit():
        _event_or_404(payment_event_id)  # an unknown checkout is a 404 whatever the form says
        abort(400, "The page was open too long; reload it and press Pay again.")
    # The checkout is read once, locked, by request_payment (not loaded with its page's relations first).
    event = checkout.request_payment(payment_event_id)
    if event is None:
        abort(404, "This checkout link is not valid. Ask the shop for a new one.")
    if event.status == "EXECUTING" and event.psp_session_url:
        return redirect(event.psp_session_url, code=303)  # the open session is reused
    return redirect(url_for("checkout.page", payment_event_id=event.id, paying=1), code=303)


@bp.get("/<payment_event_id>/return")
def returned(payment_event_id: str):
    """Back from the PSP. Besides the webhook, ask a worker to poll the PSP: whichever comes first
    settles the checkout, the other finds nothing left to do."""
    event = _event_or_404(payment_event_id)
    session_id = request.args.get("session_id", "")
    if event.status in ("EXECUTING", "PENDING") and any(s.id == session_id for s in event.sessions):
        checkout.poll_now(session_id)
    return _render(event, returning=True)


@bp.get("/<payment_event_id>/status")
def status(payment_event_id: str):
    """The same message the WebSocket sends, for pages that cannot keep a socket open."""
    response = jsonify(checkout.status_message(_event_or_404(payment_event_id)))
    response.headers["Cache-Control"] = "no-store"
    return response
