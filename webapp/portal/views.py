"""The merchant portal: a merchant user sees and manages only its own merchant's data."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_login import current_user

from webapp.auth.access import merchant_required, own_or_404
from webapp.domain.errors import DomainError
from webapp.domain.sellers import NewSeller
from webapp.models import SellerAccount
from webapp.portal.forms import ApiKeyForm, ConfirmForm, SellerAccountForm
from webapp.services import api_keys, reveal
from webapp.services import sellers as seller_service

bp = Blueprint("portal", __name__, url_prefix="/portal")



@bp.get("")
@merchant_required
def dashboard():
    merchant = current_user.merchant
    keys = api_keys.list_for(merchant)
    return render_template("portal/dashboard.html", merchant=merchant, sellers=merchant.seller_accounts,
                           active_keys=[k for k in keys if k.active])


@bp.route("/sellers", methods=["GET", "POST"])
@merchant_required
def sellers():
    merchant = current_user.merchant
    form = SellerAccountForm()
    status = 200
    if form.validate_on_submit():
        try:
            seller = seller_service.create(merchant, NewSeller.basic(form.display_name.data, form.iban.data,
                                                                     form.currency.data))
        except DomainError as exc:
            field = getattr(form, exc.param or "", None)
            (field.errors if field is not None else form.form_errors).append(exc.message)
            status = 400
        else:
            flash(f"Seller account “{seller.display_name}” added.", "success")
            return redirect(url_for("portal.sellers"))
    elif form.errors:
        status = 400
    return render_template("portal/sellers.html", merchant=merchant, sellers=merchant.seller_accounts,
                           form=form, confirm=ConfirmForm()), status


@bp.get("/sellers/<seller_id>")
@merchant_required
def seller(seller_id: str):
    return render_template("portal/seller.html", seller=own_or_404(SellerAccount, seller_id), confirm=ConfirmForm())


@bp.post("/sellers/<seller_id>/status/<status>")
@merchant_required
def seller_status(seller_id: str, status: str):
    seller = own_or_404(SellerAccount, seller_id)
    if not ConfirmForm().validate_on_submit() or status not in ("active", "disabled"):
        abort(400)
    seller_service.set_status(current_user.merchant, seller.id, status)
    flash(f"“{seller.display_name}” is now {status}.", "success")
    return redirect(url_for("portal.seller", seller_id=seller.id))


@bp.route("/api-keys", methods=["GET", "POST"])
@merchant_required
def keys():
    """Create and list keys. A new key is revealed once, after a redirect, so reloading cannot mint another."""
    merchant = current_user.merchant
    form = ApiKeyForm()
    status = 200
    if form.validate_on_submit():
        try:
            new_key = api_keys.create(merchant, form.name.data)
        except DomainError as exc:
            form.name.errors.append(exc.message)
            status = 400
        else:
            session["reveal_key"] = reveal.stash(new_key.secret)
            return redirect(url_for("portal.keys"))
    elif form.errors:
        status = 400
    secret = reveal.take(session.pop("reveal_key", None))
    records = api_keys.list_for(merchant)
    new_key = next((k for k in records if secret and secret.startswith(k.prefix)), None) if secret else None
    response = render_template("portal/api_keys.html", merchant=merchant, keys=records, form=form,
                               new_key=new_key, new_secret=secret, confirm=ConfirmForm())
    # The page may carry a secret shown once: keep it out of every cache.
    return response, status, {"Cache-Control": "no-store"}


@bp.post("/api-keys/<key_id>/revoke")
@merchant_required
def revoke_key(key_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        record = api_keys.revoke(current_user.merchant, key_id)
    except DomainError:
        abort(404)
    flash(f"API key “{record.name}” ({record.prefix}…) revoked. Requests using it now get 401.", "success")
    return redirect(url_for("portal.keys"))
