"""An admin disables a user (or enables them again); a disabled user's sessions end at their next request."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from webapp.auth import bp
from webapp.auth.access import admin_required
from webapp.domain.errors import ValidationError
from webapp.extensions import db
from webapp.models import User
from webapp.services import accounts


@bp.post("/admin/users/<user_id>/<any(disable, enable):action>")
@admin_required
def set_user_status(user_id: str, action: str):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    try:
        accounts.set_disabled(user, action == "disable", by=current_user._get_current_object())
    except ValidationError as error:
        flash(error.message, "error")
    else:
        flash(f"{user.email} is {'disabled' if action == 'disable' else 'enabled again'}.", "success")
    if user.merchant_id:
        return redirect(url_for("admin.merchant", merchant_id=user.merchant_id))
    return redirect(url_for("admin.merchants"))
