"""Sign in (password, then the second factor when the user has one) and sign out."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from webapp.auth import bp, sessions
from webapp.auth.forms import CodeForm, LoginForm
from webapp.extensions import db, limiter
from webapp.models import User
from webapp.services import accounts, two_factor

PENDING_KEY = "_2fa_pending"
# Time to type the second factor after the password, and wrong codes allowed before starting over.
PENDING_SECONDS = 300
PENDING_ATTEMPTS = 5


def home_for(user) -> str:
    return url_for("admin.merchants") if user.is_admin else url_for("portal.dashboard")


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect after login would help phishing."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _finish(user: User, next_url: str | None):
    accounts.record_sign_in(user)
    sessions.start(user)
    return redirect(next_url or home_for(user))


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], error_message="Too many sign-in attempts. Wait a minute and try again.")
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        next_url = _safe_next(request.args.get("next"))
        if user is not None and not user.is_active:
            error = "This account is disabled. Ask the platform's administrators."
            accounts.record_failed_sign_in(form.email.data, "disabled")
        elif user is not None and user.two_factor_enabled:
            session[PENDING_KEY] = {"user": user.get_id(), "at": int(time.time()), "next": next_url, "tries": 0}
            return redirect(url_for("auth.verify"))
        elif user is not None:
            return _finish(user, next_url)
        else:
            error = "Email or password is incorrect."
            accounts.record_failed_sign_in(form.email.data, "wrong email or password")
    status = 401 if error else (400 if form.errors else 200)
    return render_template("auth/login.html", form=form, error=error), status


def _pending_user() -> tuple[User | None, dict]:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, {}
    user_id, _, version = str(pending.get("user", "")).rpartition(".")
    user = db.session.get(User, user_id) if user_id else None
    if user is None or str(user.session_version) != version or not user.is_active:
        return None, {}
    return user, pending


def _pending_user_key() -> str:
    pending = session.get(PENDING_KEY)
    reference = str(pending.get("user", "")) if isinstance(pending, dict) else ""
    return "2fa:" + reference.rpartition(".")[0]


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], error_message="Too many sign-in attempts. Wait a minute and try again.")
# Wrong codes per account, whatever the address they come from (the password is already known to whoever asks).
@limiter.limit(lambda: current_app.config["TWO_FACTOR_RATE_LIMIT"], key_func=_pending_user_key, methods=["POST"],
               deduct_when=lambda response: response.status_code == 401,
               error_message="Too many wrong codes for this account. Wait and try again later.")
def verify():
    """The second step of signing in: a code from the authenticator app, or a recovery code."""
    user, pending = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash("Sign in with your email and password first.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        if two_factor.verify(user, form.code.data):
            session.pop(PENDING_KEY, None)
            return _finish(user, pending.get("next"))
        pending["tries"] = pending.get("tries", 0) + 1
        if pending["tries"] >= PENDING_ATTEMPTS:
            session.pop(PENDING_KEY, None)
            flash("Too many wrong codes. Sign in again.", "error")
            return redirect(url_for("auth.login"))
        session[PENDING_KEY] = pending
        error = "That code is not valid. Use a current code from your app, or an unused recovery code."
    status = 401 if error else (400 if form.errors else 200)
    return render_template("auth/verify.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    accounts.sign_out(current_user._get_current_object())
    sessions.end()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
