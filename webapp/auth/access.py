"""Role checks for the portal and the admin area."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required


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
