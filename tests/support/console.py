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
