"""Merchant portal: webhook endpoints (create, secret shown once, rotate, disable/enable, delete) and each endpoint's
delivery log with Resend."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from webapp.auth.access import merchant_required
from webapp.domain.errors import DomainError, NotFound
from webapp.domain.webhooks import DisabledReason
from webapp.portal import bp
from webapp.portal.forms import ConfirmForm
from webapp.portal.webhook_forms import WebhookEndpointForm
from webapp.services import reveal, webhook_delivery, webhook_endpoints, webhook_reads
from webapp.services.webhook_endpoints import NewEndpoint

LOG_PAGE = 20
NO_STORE = {"Cache-Control": "no-store"}  # pages that may carry a secret shown once


@bp.route("/webhooks", methods=["GET", "POST"])
@merchant_required
def webhooks():
    merchant = current_user.merchant
    form = WebhookEndpointForm()
    status = 200
    if form.validate_on_submit():
        try:
            made = webhook_endpoints.create(merchant.id, NewEndpoint.parse(form.url.data, form.enabled_events.data,
                                                                           form.description.data or None))
        except DomainError as exc:
            target = form.enabled_events if exc.param == "enabled_events" else form.url
            target.errors.append(exc.message)
            status = 400
        else:
            session["reveal_webhook_secret"] = reveal.stash(made.secret)
            flash("Endpoint added. Copy its signing secret now: it is shown only once.", "success")
            return redirect(url_for("portal.webhook", endpoint_id=made.endpoint.id))
    elif form.errors:
        status = 400
    endpoints = webhook_endpoints.list_for(merchant.id)
    return render_template("portal/webhooks.html", merchant=merchant, endpoints=endpoints, form=form,
                           failing=[e for e in endpoints if e.disabled_reason == DisabledReason.FAILING]), status


def _endpoint(endpoint_id: str):
    try:
        return webhook_endpoints.get(current_user.merchant.id, endpoint_id)
    except NotFound:
        abort(404)


@bp.get("/webhooks/<endpoint_id>")
@merchant_required
def webhook(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    try:
        log = webhook_reads.deliveries(endpoint, limit=LOG_PAGE, starting_after=request.args.get("starting_after"))
    except DomainError:
        abort(404)
    secret = reveal.take(session.pop("reveal_webhook_secret", None))
    return render_template("portal/webhook.html", merchant=current_user.merchant, endpoint=endpoint, log=log,
                           secret=secret, failed=webhook_reads.failed_count(endpoint), confirm=ConfirmForm(),
                           first_page=not request.args.get("starting_after")), 200, NO_STORE


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.post("/webhooks/<endpoint_id>/rotate")
@merchant_required
def rotate_webhook_secret(endpoint_id: str):
    _confirmed()
    try:
        rotated = webhook_endpoints.rotate(current_user.merchant.id, endpoint_id)
    except NotFound:
        abort(404)
    session["reveal_webhook_secret"] = reveal.stash(rotated.secret)
    flash("New signing secret made. The previous one keeps signing too until "
          f"{rotated.endpoint.previous_secret_expires_at:%Y-%m-%d %H:%M} UTC.", "success")
    return redirect(url_for("portal.webhook", endpoint_id=endpoint_id))


@bp.post("/webhooks/<endpoint_id>/enabled")
@merchant_required
def toggle_webhook(endpoint_id: str):
    _confirmed()
    enable = request.form.get("enabled") == "1"
    try:
        webhook_endpoints.set_enabled(current_user.merchant.id, endpoint_id, enable)
    except NotFound:
        abort(404)
    flash("Endpoint enabled: waiting deliveries go out now." if enable else
          "Endpoint disabled: events are kept and wait until you enable it again.", "success")
    return redirect(url_for("portal.webhook", endpoint_id=endpoint_id))


@bp.post("/webhooks/<endpoint_id>/delete")
@merchant_required
def delete_webhook(endpoint_id: str):
    _confirmed()
    try:
        webhook_endpoints.remove(current_user.merchant.id, endpoint_id)
    except NotFound:
        abort(404)
    flash("Endpoint deleted.", "success")
    return redirect(url_for("portal.webhooks"))


@bp.post("/webhooks/<endpoint_id>/deliveries/<delivery_id>/resend")
@merchant_required
def resend_webhook(endpoint_id: str, delivery_id: str):
    _confirmed()
    endpoint = _endpoint(endpoint_id)
    try:
        webhook_delivery.resend(current_user.merchant.id, delivery_id)
    except NotFound:
        abort(404)
    waiting = "" if endpoint.status == "enabled" else " (it goes out once the endpoint is enabled)"
    flash(f"Delivery queued again{waiting}.", "success")
    return redirect(url_for("portal.webhook", endpoint_id=endpoint_id))
