"""Merchant portal: Payout settings — the schedule and minimum payout that new seller accounts start with."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from webapp.auth.access import merchant_required
from webapp.domain.errors import DomainError
from webapp.domain.money import Money
from webapp.portal import bp
from webapp.portal.seller_forms import ScheduleForm, show_error
from webapp.services import sellers

# The default minimum is one number of minor units for every currency (Merchant.default_minimum_payout_minor);
# the form reads and shows it with two decimals, the exponent of nearly every currency sellers are paid in.
DEFAULTS_CURRENCY = "USD"


@bp.route("/payout-settings", methods=["GET", "POST"])
@merchant_required
def payout_settings():
    merchant = current_user.merchant
    form = ScheduleForm()
    status = 200
    if form.validate_on_submit():
        try:
            schedule = form.schedule()
            sellers.set_merchant_defaults(merchant, schedule, form.minimum_minor(DEFAULTS_CURRENCY))
        except DomainError as exc:
            show_error(form, exc)
            status = 400
        else:
            flash(f"Saved. New seller accounts are paid: {schedule.describe()}. Existing sellers keep their own "
                  "schedule; change it on each seller's page.", "success")
            return redirect(url_for("portal.payout_settings"))
    elif form.errors:
        status = 400
    else:
        form.show(sellers.merchant_schedule(merchant), merchant.default_minimum_payout_minor or 0, DEFAULTS_CURRENCY)
    minimum = merchant.default_minimum_payout_minor or 0
    return render_template("portal/payout_settings.html", merchant=merchant, form=form,
                           current=sellers.merchant_schedule(merchant),
                           minimum=Money(minimum, DEFAULTS_CURRENCY).decimal_string if minimum else None), status
