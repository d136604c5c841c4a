"""Security headers on every response, set by flask-talisman.

The Content-Security-Policy allows scripts, styles and fonts from this site only: no inline script, no
inline event handler, no inline style attribute (templates load their behaviour from static/*.js). Pages
cannot be framed (`frame-ancestors 'none'` and `X-Frame-Options: DENY`). `connect-src 'self'` covers the
checkout page's status polling and its WebSocket (same host, ws:/wss:). `form-action` allows this site and the
PSP's hosted payment page, which the checkout form is redirected to. HTTPS is enforced (redirect + HSTS) only
where configured: production by default; development and tests run on plain http.
"""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman

SELF = "'self'"


def content_security_policy(psp_checkout_origin: str) -> dict[str, str | list[str]]:
    return {
        "default-src": SELF,
        "script-src": SELF,
        "style-src": SELF,
        "img-src": [SELF, "data:"],
        "font-src": SELF,
        "connect-src": SELF,
        "form-action": [SELF, psp_checkout_origin],
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "object-src": "'none'",
    }


def init_app(app: Flask, talisman: Talisman) -> None:
    production = app.config["ENV_NAME"] == "production"
    talisman.init_app(
        app,
        content_security_policy=content_security_policy(app.config["PSP_CHECKOUT_ORIGIN"]),
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=production,
        strict_transport_security_max_age=app.config["HSTS_MAX_AGE_SECONDS"],
        # Talisman would otherwise overwrite the cookie settings of config.py.
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
