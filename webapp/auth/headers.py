"""Security headers on every response, set by flask-talisman.

The Content-Security-Policy allows scripts, styles and fonts from this site only: no inline script, no
inline event handler, no inline style attribute (templates load their behaviour from static/*.js). Pages
cannot be framed (`frame-ancestors 'none'` and `X-Frame-Options: DENY`). `connect-src 'self'` covers the
checkout page's status polling and its WebSocket on the same host; with LIVE_URL set, the live server's origin
is allowed too. `form-action` allows this site and the
PSP's hosted payment page, which the checkout form is redirected to. HTTPS is enforced (redirect + HSTS) only
where configured: production by default; development and tests run on plain http.

A header a view sets itself wins (the checkout page's `Referrer-Policy: no-referrer`, so the PSP's hosted page
learns not even this site's origin). flask-talisman rebuilds the same headers on every response (it re-parses
the policy each time: ~0.1 ms, a tenth of a webhook's CPU); `CachedTalisman` keeps each endpoint's set.
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import Flask, Response, request
from flask_talisman import Talisman
from werkzeug.datastructures import Headers

SELF = "'self'"


class CachedTalisman(Talisman):
    """flask-talisman (pinned in pyproject.toml), its options looked up and its headers built once per endpoint
    (and kind of request), not on every request.

    What talisman sets depends on the endpoint (options a view may carry, `@talisman(...)`) and on whether the
    request came over HTTPS (HSTS); it varies per request only with a CSP nonce, which this app does not use, so
    with one configured every response is built afresh as talisman builds it. The HTTPS redirect is decided on
    every request, as talisman decides it."""

    def init_app(self, app: Flask, **kwargs) -> None:
        super().init_app(app, **kwargs)
        self._options: dict[str | None, dict] = {}
        self._built: dict[tuple[str | None, bool], list[tuple[str, str]]] = {}

    def _get_local_options(self) -> dict:
        # Talisman asks three or four times a request; the answer is the view's options over the app's, fixed once
        # both are set up.
        endpoint = request.endpoint
        options = self._options.get(endpoint)
        if options is None:
            options = self._options[endpoint] = super()._get_local_options()
        return options

    def _set_response_headers(self, response: Response) -> Response:
        secure = request.is_secure or request.headers.get("X-Forwarded-Proto", "http") == "https"
        key = (request.endpoint, secure)
        headers = self._built.get(key)
        if headers is None:
            probe = SimpleNamespace(headers=Headers())  # all talisman reads of a response is its headers
            super()._set_response_headers(probe)
            headers = list(probe.headers.items())
            if not self._get_local_options()["content_security_policy_nonce_in"]:
                self._built[key] = headers
        own = response.headers
        present = {name.lower() for name, _ in own}  # one pass (looking up an absent header raises inside)
        own.extend([(name, value) for name, value in headers if name.lower() not in present])
        return response


def content_security_policy(psp_checkout_origin: str, live_url: str = "") -> dict[str, str | list[str]]:
    return {
        "default-src": SELF,
        "script-src": SELF,
        "style-src": SELF,
        "img-src": [SELF, "data:"],
        "font-src": SELF,
        "connect-src": [SELF, live_url] if live_url else SELF,
        "form-action": [SELF, psp_checkout_origin],
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "object-src": "'none'",
    }


talisman = CachedTalisman()


def init_app(app: Flask) -> None:
    production = app.config["ENV_NAME"] == "production"
    talisman.init_app(
        app,
        content_security_policy=content_security_policy(app.config["PSP_CHECKOUT_ORIGIN"], app.config["LIVE_URL"]),
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
