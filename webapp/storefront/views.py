"""`/demo/shop`: pick items from the two demo sellers and check out through `POST /v1/payments`.

The shop calls the API over HTTP with the demo API key from instance/demo.env, exactly as a merchant's
own server would, then sends the buyer to the `checkout_url` it gets back.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import requests
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from webapp.services.demo import CATALOGUE, SELLERS, read_env_file

bp = Blueprint("storefront", __name__, url_prefix="/demo/shop")


class CheckoutForm(FlaskForm):
    """CSRF only; quantities are read from the posted fields."""


@bp.before_request
def enabled() -> None:
    if not current_app.config["DEMO_SHOP_ENABLED"]:
        abort(404)


def _demo() -> dict[str, str]:
    demo = read_env_file(Path(current_app.instance_path) / "demo.env")
    if not demo.get("DEMO_API_KEY"):
        abort(503, "The demo shop needs the demo data: run `flask --app wsgi demo seed`.")
    return demo


@bp.get("")
def shop():
    sellers = [name for name, _ in SELLERS]
    return render_template("storefront/shop.html", catalogue=CATALOGUE, sellers=sellers, form=CheckoutForm())


def _quantities() -> dict[str, int]:
    chosen = {}
    for product in CATALOGUE:
        raw = request.form.get(f"qty-{product.sku}", "0") or "0"
        if not (raw.isascii() and raw.isdigit()) or int(raw) > 20:
            abort(400, "Quantities are whole numbers from 0 to 20.")
        if int(raw):
            chosen[product.sku] = int(raw)
    return chosen


@bp.post("/checkout")
def checkout():
    if not CheckoutForm().validate_on_submit():
        abort(400, "The shop page was open too long; reload it and try again.")
    demo = _demo()
    quantities = _quantities()
    if not quantities:
        flash("Pick at least one item.", "error")
        return redirect(url_for("storefront.shop"))
    seller_ids = demo["DEMO_SELLER_ACCOUNTS"].split(",")
    order_id = "demo-" + secrets.token_hex(6)
    orders = []
    for product in CATALOGUE:
        if product.sku in quantities:
            amount = Decimal(product.price) * quantities[product.sku]
            orders.append({"payment_order_id": f"{order_id}-{product.sku}",
                           "seller_account": seller_ids[product.seller_index],
                           "amount": f"{amount:.2f}", "currency": "USD",
                           "description": f"{quantities[product.sku]} x {product.name}"})
    base = current_app.config["PUBLIC_BASE_URL"]
    body = {"checkout_id": order_id,
            "buyer_info": {"email": request.form.get("email") or "buyer@example.com",
                           "name": request.form.get("name") or None},
            "payment_orders": orders,
            "success_url": f"{base}{url_for('storefront.thanks', order=order_id)}",
            "cancel_url": f"{base}{url_for('storefront.shop')}"}
    try:
        response = requests.post(f"{base}/v1/payments", json=body, timeout=10, headers={
            "Authorization": f"Bearer {demo['DEMO_API_KEY']}", "Idempotency-Key": order_id})
    except requests.RequestException as exc:
        abort(502, f"The payments API did not answer: {exc}")
    if response.status_code not in (200, 201):
        message = response.json().get("error", {}).get("message", response.text[:200])
        flash(f"Checkout failed: {message}", "error")
        return redirect(url_for("storefront.shop"))
    return redirect(response.json()["checkout_url"], code=303)


# What the shop tells its buyer for each status the API reports (a merchant's own words, as any shop would choose).
ORDER_WORDS = {
    "SUCCESS": ("paid", "Thank you for your order", "is paid. The sellers have been notified."),
    "PENDING": ("pending", "Waiting for your payment",
                "is waiting for your bank transfer. We ship it as soon as the money arrives."),
    "FAILED": ("failed", "Payment not completed", "is not paid: the payment did not go through."),
    "NOT_STARTED": ("open", "Payment not completed", "is not paid yet."),
    "EXECUTING": ("open", "Payment not completed", "is not paid yet."),
}


@bp.get("/thanks")
def thanks():
    """Asks the API for the order's real status, as a merchant's server does (the buyer can edit `?order=`)."""
    order = request.args.get("order", "").strip()[:255]
    found = None
    if order:
        demo = _demo()
        try:
            response = requests.get(f"{current_app.config['PUBLIC_BASE_URL']}/v1/payments/{quote(order, safe='')}",
                                    timeout=10, headers={"Authorization": f"Bearer {demo['DEMO_API_KEY']}"})
        except requests.RequestException as exc:
            abort(502, f"The payments API did not answer: {exc}")
        if response.status_code == 200:
            found = response.json()
        elif response.status_code != 404:
            abort(502, "The payments API could not tell the order's status; reload in a moment.")
    if found is None:
        return render_template("storefront/thanks.html", order=order, words=None), 404
    return render_template("storefront/thanks.html", order=order, payment=found, words=ORDER_WORDS[found["status"]])
