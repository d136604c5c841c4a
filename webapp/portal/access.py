"""Team roles on the portal: every request that changes something is checked against the member's role
(webapp.domain.team), in one place, so no route can forget it. Pages ask `can_change(area)` to hide what the
member may not use."""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user

from webapp.domain.team import ROLE_LABELS, Area, area_of_endpoint, may_change
from webapp.portal import bp
from webapp.services import team

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _merchant_user() -> bool:
    return bool(current_user.is_authenticated and current_user.role == "merchant")


@bp.before_request
def enforce_role() -> None:
    if request.method in _READS or not _merchant_user() or request.endpoint is None:
        return
    role = team.role_of(current_user)
    if not may_change(role, area_of_endpoint(request.endpoint)):
        abort(403, f"Your role ({ROLE_LABELS[role]}) can look but not change this. Ask an owner of your team.")


@bp.app_template_global("can_change")
def can_change(area: str) -> bool:
    return _merchant_user() and may_change(team.role_of(current_user), Area(area))
