"""Our hosted checkout: review and Pay, then the PSP's page, then back here for the live result.

The checkout's id is long and random: the URL itself is the buyer's capability, as with the PSP's own
session URLs. Card details are never asked for here; the PSP's hosted page collects them.
"""

from __future__ import annotations

from collections import OrderedDict

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for

from webapp.domain.money import Money
from webapp.domain.payments import RESUME, OrderStatus
from webapp.extensions import limiter
from webapp.live.views import token_for
from webapp.services import checkout, checkout_press, checkout_reads, crypto, payment_methods
from webapp.services.checkout_reads import CheckoutView

bp = Blueprint("checkout", __name__, url_prefix="/checkout")
limiter.exempt(bp)


def _view_or_404(payment_event_id: str) -> CheckoutView:
    found = checkout_reads.view(payment_event_id)
    if found is None:
        abort(404, "This checkout link is not valid. Ask the shop for a new one.")
    return found


def _grouped_orders(view: CheckoutView) -> list[dict]:
    groups: OrderedDict[str, dict] = OrderedDict()
    for order in view.orders:
        group = groups.setdefault(order.seller_account_id, {"seller": order.seller_name, "orders": [],
                                                             "subtotal": 0})
        group["orders"].append({"label": order.description or order.payment_order_id,
                                "amount": Money(order.amount, order.currency).format()})
        group["subtotal"] += order.amount
    for group in groups.values():
        group["subtotal"] = Money(group["subtotal"], view.currency).format()
    return list(groups.values())


def _render(event: CheckoutView, *, returning: bool = False, status: int = 200):
    state = checkout.state_of(event, retrying=event.registering_retry)
    canceled = request.args.get("canceled") == "1" and state.state in ("redirect", "ready")
    paying = request.args.get("paying") == "1"
    if state.state == "redirect" and not (paying or returning or canceled):
        state = RESUME  # back on this page while the payment page is open: say so, and offer to continue
    # What the buyer paid with (paid) or must transfer (pending), from the PSP; only for those pages.
    methods = (payment_methods.of_sessions(checkout_reads.sessions(event.id)) if state.state in ("paid", "pending")
               else None)
    transfer = None
    if methods is not None and state.state == "pending":
        transfer = next((a.payments.bank_transfer for a in reversed(methods.attempts)
                         if a.payments and a.payments.bank_transfer), None)
    return render_template(
        "checkout/page.html", event=event, state=state, canceled=canceled, returning=returning,
        paying=paying, groups=_grouped_orders(event),
        total=Money(event.amount_total, event.currency).format(), buyer_email=crypto.decrypt(event.buyer_email_enc),
        merchant=event.merchant_name, live_token=token_for(event.id),
        message=checkout.status_message(event, state), paid_with=methods.paid_with if methods else None,
        transfer=transfer,
    ), status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.get("/<payment_event_id>")
def page(payment_event_id: str):
    return _render(_view_or_404(payment_event_id))


@bp.post("/<payment_event_id>/pay")
def pay(payment_event_id: str):
    # The form's CSRF token (the page renders it with Flask-WTF's `csrf_token()`: the Pay button is the whole form)
    # was checked before this view by CSRFProtect (app-wide, every POST of this blueprint):
    # a missing or foreign token is a 400 "Form expired" page. The checkout is read once, by the statement that
    # starts the attempt (not loaded for its page first).
    pressed = checkout_press.request_payment(payment_event_id)
    if pressed is None:
        abort(404, "This checkout link is not valid. Ask the shop for a new one.")
    if pressed.status is OrderStatus.EXECUTING and pressed.psp_session_url:
        return redirect(pressed.psp_session_url, code=303)  # the open session is reused
    return redirect(url_for("checkout.page", payment_event_id=payment_event_id, paying=1), code=303)


@bp.get("/<payment_event_id>/return")
def returned(payment_event_id: str):
    """Back from the PSP. Besides the webhook, ask a worker to poll the PSP: whichever comes first
    settles the checkout, the other finds nothing left to do."""
    event = _view_or_404(payment_event_id)
    if event.status in ("EXECUTING", "PENDING"):
        checkout.poll_now(payment_event_id, request.args.get("session_id", ""))
    return _render(event, returning=True)


@bp.get("/<payment_event_id>/status")
def status(payment_event_id: str):
    """The same message the WebSocket sends, for pages that cannot keep a socket open."""
    event = _view_or_404(payment_event_id)
    response = jsonify(checkout.status_message(event, checkout.state_of(event, retrying=event.registering_retry)))
    response.headers["Cache-Control"] = "no-store"
    return response
