"""Sessions that end on the server.

The session cookie (Flask's, signed with SECRET_KEY) names the user as `<id>.<session version>`
(User.get_id). Every request loads the user through `load_user`, which refuses the cookie when the version is
no longer the user's (they signed out, changed their password or two-factor setting, or were disabled), when
the user is disabled, or when the session saw no request for SESSION_IDLE_MINUTES. A copied cookie therefore
stops working as soon as its session ends, without a server-side session store.
"""

from __future__ import annotations

import time

from flask import Flask, Request, Response, current_app, flash, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_login import login_user, logout_user
from itsdangerous import URLSafeTimedSerializer

from webapp.extensions import db
from webapp.models import User

SEEN_KEY = "_seen"
# The last-seen time is rewritten at most this often, so the cookie does not change on every request.
_SEEN_RESOLUTION_SECONDS = 30


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, cheap for the requests that carry no cookie (webhooks, API calls): the
    signing serializer is built once per key set (Flask builds it anew on every request, ~40 µs of CPU), a request
    without a Cookie header gets its empty session without parsing cookies, and an empty session that nothing
    changed is saved without reading the cookie settings."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        found = self._serializers.get(keys)
        if found is None:
            found = self._serializers[keys] = super().get_signing_serializer(app)
        return found

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "HTTP_COOKIE" not in request.environ:  # no cookie at all (webhooks, API calls): an empty session
            return self.session_class() if app.secret_key else None
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:
            # Nothing to write or delete (every webhook, most API calls): Flask would first read seven cookie
            # settings, which only a cookie it sets or deletes needs.
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def load_user(reference: str) -> User | None:
    user_id, _, version = reference.rpartition(".")
    user = db.session.get(User, user_id) if user_id else None
    if user is None or str(user.session_version) != version or not user.is_active:
        _forget()
        return None
    now = int(time.time())
    seen = session.get(SEEN_KEY)
    if not isinstance(seen, int) or now - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        flash("You were signed out after a period without activity. Please sign in again.", "info")
        _forget()
        return None
    if now - seen >= _SEEN_RESOLUTION_SECONDS:
        session[SEEN_KEY] = now
    return user


def end() -> None:
    """Forget this browser's sign-in (the server side ended with the session version)."""
    logout_user()
    for key in [k for k in session if k.startswith("_") and k != "_flashes"]:
        session.pop(key)


def _forget() -> None:
    session.pop("_user_id", None)
    session.pop(SEEN_KEY, None)


def start(user: User) -> None:
    """Sign the user in (the CSRF token carries over; with signed-cookie sessions no one else can have set it)."""
    login_user(user)
    session[SEEN_KEY] = int(time.time())


def renew(user: User) -> None:
    """Keep this browser signed in after the user's session version moved on (their own password change)."""
    login_user(user)
    session[SEEN_KEY] = int(time.time())
