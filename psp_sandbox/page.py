"""The hosted payment page at a session's `url`: card (with 3-D Secure), wallet and bank transfer."""

from __future__ import annotations

import datetime

from flask import Blueprint, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue

from psp_sandbox.cards import check_form
from psp_sandbox.context import Sandbox
from psp_sandbox.errors import StripeError
from psp_sandbox.money import display
from psp_sandbox.resources import payments, sessions
from psp_sandbox.resources.payments import Buyer, Outcome
from psp_sandbox.store import Row

bp = Blueprint("page", __name__, url_prefix="/pay")


def _sb() -> Sandbox:
    return current_app.extensions["psp_sandbox"]


def success_url(session: dict) -> str:
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])


# The hosted page is never cached: the Back button after paying must ask again and find the session complete,
# not show the card form from the browser's cache (Stripe's page does the same).
NO_STORE = {"Cache-Control": "no-store"}


def _merchant(session: Row) -> str:
    """The business the buyer pays: the session's `branding_settings[display_name]`, else the account's name."""
    return session.private.get("display_name") or _sb().settings.merchant_name


def _render(session: Row, status: int = 200, **context: object) -> ResponseReturnValue:
    template = "pay.html" if session["status"] == "open" else "closed.html"
    page = render_template(
        template, session=session, items=session.private["line_items"], money=display,
        merchant=_merchant(session), methods=session["payment_method_types"], form=request.form,
        success_url=success_url(session), **context,
    )
    return page, status, NO_STORE


def _buyer(session: Row) -> Buyer:
    email = (request.form.get("email") or session["customer_email"] or "").strip() or None
    return Buyer(email, request.form.get("name", "").strip() or None)


def _follow(outcome: Outcome) -> ResponseReturnValue:
    session = outcome.session
    if outcome.status == "succeeded":
        return redirect(success_url(session), 303)
    if outcome.status == "requires_action":
        return redirect(f"/pay/{session['id']}/3ds", 303)
    if outcome.status == "processing":
        page = render_template("bank_transfer.html", session=session, money=display,
                               continue_url=success_url(session), merchant=_merchant(session),
                               transfer=session.private.get("bank_transfer"))
        return page, 200, NO_STORE
    if outcome.status == "declined":
        return _render(session, 402, error=outcome.message)
    return _render(session)


@bp.get("/<session_id>")
def show(session_id: str) -> ResponseReturnValue:
    sb = _sb()
    with sb.store.write():
        session, _ = payments.open_session(sb, session_id)
    return _render(session)


@bp.post("/<session_id>/card")
def pay_card(session_id: str) -> ResponseReturnValue:
    sb = _sb()
    today = sb.clock.now()
    year, month = _year_month(today)
    card, errors = check_form(request.form.get("card_number", ""), request.form.get("expiry", ""),
                              request.form.get("cvc", ""), request.form.get("name", ""), (year, month))
    with sb.store.write():
        session, closed = payments.open_session(sb, session_id)
        if closed or card is None:
            return _render(session, 400 if errors else 200, field_errors=errors,
                           error="Please correct the highlighted fields." if errors else None)
        return _follow(payments.pay_card(sb, session_id, card, _buyer(session)))


@bp.post("/<session_id>/wallet")
def pay_wallet(session_id: str) -> ResponseReturnValue:
    sb = _sb()
    with sb.store.write():
        session = sessions.get(sb, session_id)
        return _follow(payments.pay_wallet(sb, session_id, _buyer(session)))


@bp.post("/<session_id>/bank_transfer")
def pay_bank_transfer(session_id: str) -> ResponseReturnValue:
    sb = _sb()
    with sb.store.write():
        session = sessions.get(sb, session_id)
        if "customer_balance" not in session["payment_method_types"]:
            return _render(session, 400, error="Bank transfer is not available for this payment.")
        buyer = _buyer(session)
        if not buyer.email:
            return _render(session, 400, field_errors={"email": "Enter your email to pay by bank transfer."},
                           error="Please correct the highlighted fields.")
        return _follow(payments.pay_bank_transfer(sb, session_id, buyer))


@bp.get("/<session_id>/3ds")
def challenge(session_id: str) -> ResponseReturnValue:
    sb = _sb()
    session = sessions.get(sb, session_id)
    if session["status"] != "open":
        return _render(session)
    return render_template("threeds.html", session=session, money=display,
                           merchant=_merchant(session)), 200, NO_STORE


@bp.post("/<session_id>/3ds")
def answer_challenge(session_id: str) -> ResponseReturnValue:
    sb = _sb()
    with sb.store.write():
        return _follow(payments.authenticate(sb, session_id, request.form.get("result") == "complete"))


def _year_month(timestamp: int) -> tuple[int, int]:
    day = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return day.year, day.month


@bp.errorhandler(StripeError)
def _page_error(error: StripeError) -> ResponseReturnValue:
    return render_template("not_found.html", message=error.body["message"]), error.status
