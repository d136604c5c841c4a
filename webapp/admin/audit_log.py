"""Admin: the audit log, newest first, filtered by actor, action, target and day (read-only)."""

from __future__ import annotations

from flask import render_template, request

from webapp.admin import bp
from webapp.admin.filters import Filters
from webapp.auth.access import admin_required
from webapp.services import audit
from webapp.services.audit import AuditFilter


@bp.get("/audit")
@admin_required
def audit_log():
    args = Filters(request.args)
    where = AuditFilter(actor=args.text("actor"), action=args.text("action", 60), target=args.text("target"),
                        since=args.day("since", "From"), until=args.day("until", "To"))
    before = args.integer("before")
    page = audit.page(where, before=before)
    filtered = {k: v for k, v in request.args.items() if k != "before" and v}
    return render_template("admin/audit.html", page=page, where=where, actions=audit.actions(),
                           detail_of=audit.detail_of, errors=args.errors, first_page=before is None,
                           filtered=filtered), 400 if args.errors else 200
