"""Admin: the inbox of PSP events, searchable by event (or object) id and type, filtered by processing state;
one event with its payload; re-apply one (audited, webapp.services.dead_letters.reapply_event)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from webapp.admin import bp
from webapp.admin.filters import Filters
from webapp.admin.forms import ActionForm
from webapp.auth.access import admin_required
from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.services import audit, dead_letters, psp_event_reads
from webapp.services.psp_event_reads import EventState


@bp.get("/events")
@admin_required
def events():
    args = Filters(request.args)
    event_id, type_prefix = args.text("id"), args.text("type", 100)
    state = args.choice("state", EventState, "State")
    after = args.text("after")
    page = psp_event_reads.search(event_id=event_id, type_prefix=type_prefix, state=state, after=after)
    filtered = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("admin/events.html", page=page, event_id=event_id, type_prefix=type_prefix, state=state,
                           states=list(EventState), types=psp_event_reads.types(), state_of=psp_event_reads.state_of,
                           errors=args.errors, first_page=after is None, filtered=filtered), \
        400 if args.errors else 200


@bp.get("/events/<event_id>")
@admin_required
def event(event_id: str):
    found = psp_event_reads.get(event_id)
    if found is None:
        abort(404)
    concern = psp_event_reads.event_concerns({found.object_id or ""}).get(found.object_id or "")
    return render_template("admin/event.html", e=found, state=psp_event_reads.state_of(found), concern=concern,
                           payload=psp_event_reads.pretty_payload(found), action=ActionForm(),
                           history=audit.for_target("psp_event", found.id))


@bp.post("/events/<event_id>/reapply")
@admin_required
def event_reapply(event_id: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        dead_letters.reapply_event(event_id)
    except DomainError as exc:
        db.session.rollback()
        if exc.code == "resource_missing":
            abort(404)
        flash(exc.message, "error")
    else:
        flash(f"PSP event {event_id} will be applied again by the next inbox drain.", "success")
    return redirect(url_for("admin.event", event_id=event_id))
