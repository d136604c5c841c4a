"""Test clients that behave like separate browsers against a server.

Flask's test client reuses the application context a test holds, so `g` (and Flask-Login's cached user in
it) would carry over from one request to the next and from one client to another. A real server gives every
request its own context; `browser(app)` does the same, so what a request sees comes from its own cookies.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db


class Browser(FlaskClient):
    def open(self, *args, **kwargs):
        # The test's own session ends its transaction first: on SQLite a reader's lock would block the
        # request's writes (as tests.support.payments.Api does).
        db.session.rollback()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def browser(app: Flask) -> Browser:
    return Browser(app, app.response_class, use_cookies=True)
