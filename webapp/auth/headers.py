"""Security headers on every response, computed once per app and set by one after-request hook.

The Content-Security-Policy allows scripts, styles and fonts from this site only: no inline script, no
inline event handler, no inline style attribute (templates load their behaviour from static/*.js). Pages
cannot be framed (`frame-ancestors 'none'` and `X-Frame-Options: DENY`). `connect-src 'self'` covers the
checkout page's status polling and its WebSocket (same host, ws:/wss:). `form-action` allows this site and the
PSP's hosted payment page, which the checkout form is redirected to. HTTPS is enforced (redirect + HSTS) only
where configured: production by default; development and tests run on plain http.

These are the headers flask-talisman set, with its values and precedence (they replace a view's own). Talisman
rebuilt them from its options on every response, which cost about a tenth of a webhook's CPU; they never change
while the app runs, so they are built when it starts.
"""

from __future__ import annotations

from flask import Flask, Response, redirect, request
from flask.typing import ResponseReturnValue

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


def policy_text(policy: dict[str, str | list[str]]) -> str:
    return "; ".join(f"{name} {value if isinstance(value, str) else ' '.join(value)}" for name, value in policy.items())


def _secure() -> bool:
    """https, here or at a TLS-terminating proxy in front."""
    return request.is_secure or request.headers.get("X-Forwarded-Proto", "http") == "https"


def init_app(app: Flask) -> None:
    production = app.config["ENV_NAME"] == "production"
    headers = [
        ("Permissions-Policy", "browsing-topics=()"),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", policy_text(content_security_policy(app.config["PSP_CHECKOUT_ORIGIN"]))),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]
    hsts = f"max-age={app.config['HSTS_MAX_AGE_SECONDS']}; includeSubDomains"

    def set_headers(response: Response) -> Response:
        response.headers.update(headers)
        if production and _secure():
            response.headers["Strict-Transport-Security"] = hsts
        return response

    def redirect_to_https() -> ResponseReturnValue | None:
        if app.debug or _secure() or not request.url.startswith("http://"):
            return None
        return redirect(request.url.replace("http://", "https://", 1), code=302)

    if app.config["FORCE_HTTPS"]:
        app.before_request(redirect_to_https)
    app.after_request(set_headers)
