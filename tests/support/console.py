"""Helpers for the admin console's tests: an admin signed in, a form posted with its page's CSRF token, audit rows."""

from __future__ import annotations

from sqlalchemy import select

from tests.support import factories
from tests.support.forms import csrf_token, login
from webapp.extensions import db
from webapp.models import AuditEntry

ADMIN = "admin@platform.example.com"


def admin_client(client):
    factories.admin(ADMIN)
    db.session.rollback()
    response = login(client, ADMIN, factories.PASSWORD)
    assert response.status_code == 302, response.status_code
    return client


def post_form(client, page: str, action: str, data: dict | None = None, **kwargs):
    """Post `data` to `action` with the CSRF token of `page`, as a browser would from that page."""
    token = csrf_token(client.get(page).get_data(as_text=True))
    db.session.rollback()
    return client.post(action, data={"csrf_token": token, **(data or {})}, **kwargs)


def audits(action: str | None = None) -> list[AuditEntry]:
    db.session.rollback()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    found = list(db.session.scalars(query))
    db.session.rollback()
    return found


def worker_env(app, redis_url: str) -> dict[str, str]:
    """The environment of a real worker process (`python -m workers`) on the test app's database and Redis."""
    import os

    from tests.integration.conftest import WEBHOOK_SECRET
    from tests.support.sandbox import API_KEY

    config = app.config
    return {"APP_ENV": "test", "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": redis_url, "STRIPE_API_BASE": config["STRIPE_API_BASE"], "STRIPE_API_KEY": API_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"],
            "OUTBOX_BACKOFF_SECONDS": "0.1", "INSTANCE_PATH": os.environ["INSTANCE_PATH"]}
