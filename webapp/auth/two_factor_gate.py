"""Admins without a second factor, where it is required (ADMIN_TWO_FACTOR_REQUIRED, on in production), can use
only the security page (to enrol) and sign-out until they have enrolled."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user

from webapp.auth import bp

# Endpoints an admin still has to reach before enrolling (and those that need no account at all).
OPEN_ENDPOINTS = frozenset({"auth.security", "auth.two_factor_setup", "auth.change_password", "auth.logout",
                            "auth.login", "auth.verify", "static"})


def must_enrol(user) -> bool:
    return bool(current_app.config["ADMIN_TWO_FACTOR_REQUIRED"] and user.is_authenticated and user.is_admin
                and not user.two_factor_enabled)


@bp.before_app_request
def send_admins_to_enrolment():
    if request.endpoint in OPEN_ENDPOINTS or request.blueprint not in {"admin", "auth", "portal"}:
        return None
    if must_enrol(current_user):
        flash("Set up two-factor sign-in to continue: it is required for admins.", "info")
        return redirect(url_for("auth.security"))
    return None
