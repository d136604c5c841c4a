"""The account's Security page (/account/security): password change and the TOTP second factor, for merchant
users and admins alike."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required

from webapp.auth import bp, sessions
from webapp.auth.forms import CodeForm, DisableTwoFactorForm, PasswordChangeForm
from webapp.auth.views import login_limit
from webapp.domain.errors import ValidationError
from webapp.extensions import limiter
from webapp.services import accounts, crypto, two_factor

PENDING_SECRET_KEY = "_totp_pending"


def _user():
    return current_user._get_current_object()


def _page(status: int = 200, **forms):
    user = _user()
    context = {
        "password_form": forms.get("password_form") or PasswordChangeForm(formdata=None),
        "disable_form": forms.get("disable_form") or DisableTwoFactorForm(formdata=None),
        "codes_left": two_factor.recovery_codes_left(user) if user.two_factor_enabled else 0,
    }
    return render_template("auth/security.html", **context), status


def _field_error(form, error: ValidationError, default: str) -> None:
    field = getattr(form, error.param or "", None) or getattr(form, default)
    field.errors = [*field.errors, error.message]


@bp.get("/account/security")
@login_required
def security():
    return _page()


@bp.post("/account/security/password")
@login_required
@limiter.limit(login_limit, error_message="Too many attempts. Wait a minute and try again.")
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(_user(), form.current_password.data, form.new_password.data)
        except ValidationError as error:
            _field_error(form, error, "new_password")
        else:
            sessions.renew(_user())
            flash("Password changed. Your other sessions are signed out.", "success")
            return redirect(url_for("auth.security"))
    return _page(400, password_form=form)


@bp.route("/account/security/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Show a new secret (QR code and text); a code from the app turns the second factor on."""
    user = _user()
    if user.two_factor_enabled:
        return redirect(url_for("auth.security"))
    form = CodeForm()
    stored = session.get(PENDING_SECRET_KEY)
    if form.validate_on_submit() and isinstance(stored, str):
        try:
            codes = two_factor.enable(user, crypto.decrypt(stored), form.code.data)
        except ValidationError as error:
            form.code.errors = [error.message]
        else:
            session.pop(PENDING_SECRET_KEY, None)
            sessions.renew(user)
            return render_template("auth/recovery_codes.html", codes=codes)
        secret = crypto.decrypt(stored)
    else:
        secret = two_factor.new_secret()
        session[PENDING_SECRET_KEY] = crypto.encrypt(secret)
    status = 400 if form.errors else 200
    return render_template("auth/two_factor_setup.html", form=form,
                           enrolment=two_factor.enrolment(user, secret)), status


@bp.post("/account/security/two-factor/disable")
@login_required
@limiter.limit(login_limit, error_message="Too many attempts. Wait a minute and try again.")
def two_factor_disable():
    form = DisableTwoFactorForm()
    if form.validate_on_submit():
        try:
            two_factor.disable(_user(), form.password.data)
        except ValidationError as error:
            _field_error(form, error, "password")
        else:
            sessions.renew(_user())
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for("auth.security"))
    return _page(400, disable_form=form)
