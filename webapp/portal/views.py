"""Merchant portal: the overview and API keys."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user

from webapp.auth.access import merchant_required
from webapp.domain.errors import DomainError
from webapp.domain.payment_words import MerchantStatus
from webapp.portal import bp
from webapp.portal import charts as charts_
from webapp.portal.forms import ApiKeyForm, ConfirmForm
from webapp.portal.payments import abandoned_after
from webapp.services import api_keys, payment_search, portal_overview, reveal
from webapp.services.payment_search import PaymentQuery


@bp.get("")
@merchant_required
def dashboard():
    merchant = current_user.merchant
    found = portal_overview.overview(merchant.id)
    charts = None
    if found.figures:
        main = found.figures[0]
        charts = {"volume": charts_.volume_chart(found.days, main.currency, main.daily_gross, main.daily_net),
                  "payments": charts_.payments_chart(found.days, main.daily_payments)}
    open_now = payment_search.count(PaymentQuery(merchant.id, status=MerchantStatus.OPEN,
                                                 abandoned_after=abandoned_after()))
    return render_template("portal/dashboard.html", merchant=merchant, sellers=merchant.seller_accounts,
                           overview=found, charts=charts, first_day=found.days[0], last_day=found.days[-1],
                           open_checkouts=open_now)


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
                               new_key=new_key, new_secret=secret, confirm=ConfirmForm(),
                               test_mode=api_keys.key_prefix() == api_keys.TEST_PREFIX,
                               last_used_interval=current_app.config["API_KEY_LAST_USED_INTERVAL_SECONDS"])
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
