"""Role checks for the portal and the admin area, and merchant ownership of records."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Protocol, TypeVar

from flask import abort
from flask_login import current_user, login_required

from webapp.extensions import db


class _OwnedByMerchant(Protocol):
    merchant_id: str


Owned = TypeVar("Owned", bound=_OwnedByMerchant)


def role_required(role: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role != role:
                abort(403, "This page belongs to another kind of account.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


merchant_required = role_required("merchant")
admin_required = role_required("admin")


def own_or_404(model: type[Owned], record_id: str) -> Owned:
    """The signed-in merchant's record; another merchant's looks exactly like a missing one (404)."""
    record = db.session.get(model, record_id)
    if record is None or record.merchant_id != current_user.merchant_id:
        abort(404)
    return record
