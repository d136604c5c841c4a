"""Admin: background work — RQ queue depths, the outbox and inbox backlogs with their oldest item's age, and the
dead letters (RQ's failed registry per queue, dead outbox rows, dead inbox events) with Retry and Discard.
Reads live in webapp.services.pipeline_reads, actions (each audited) in webapp.services.dead_letters."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from webapp.admin import bp
from webapp.admin.forms import ActionForm
from webapp.auth.access import admin_required
from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.services import dead_letters, pipeline_reads

DEAD_SHOWN = 100


@bp.get("/work")
@admin_required
def work():
    return render_template("admin/work.html", depths=pipeline_reads.queue_depths(),
                           failed_counts=pipeline_reads.failed_counts(), outbox=pipeline_reads.outbox_backlog(),
                           inbox=pipeline_reads.inbox_backlog(), failed=pipeline_reads.failed_jobs(),
                           dead_outbox=pipeline_reads.dead_outbox(DEAD_SHOWN),
                           dead_inbox=pipeline_reads.dead_inbox(DEAD_SHOWN), action=ActionForm())


def _act(done: str, act) -> None:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        act()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(done, "success")


@bp.post("/work/outbox/<int:message_id>/<action>")
@admin_required
def work_outbox(message_id: int, action: str):
    if action == "retry":
        _act(f"Outbox row {message_id} queued again.", lambda: dead_letters.retry_outbox(message_id))
    elif action == "discard":
        _act(f"Outbox row {message_id} discarded.", lambda: dead_letters.discard_outbox(message_id))
    else:
        abort(404)
    return redirect(url_for("admin.work"))


@bp.post("/work/inbox/<event_id>/<action>")
@admin_required
def work_inbox(event_id: str, action: str):
    if action == "retry":
        _act(f"PSP event {event_id} will be applied again.", lambda: dead_letters.reapply_event(event_id))
    elif action == "discard":
        _act(f"PSP event {event_id} discarded.", lambda: dead_letters.discard_event(event_id))
    else:
        abort(404)
    return redirect(url_for("admin.work"))


@bp.post("/work/jobs/<queue>/<job_id>/<action>")
@admin_required
def work_job(queue: str, job_id: str, action: str):
    if action == "retry":
        _act(f"Job {job_id} requeued on {queue}.", lambda: dead_letters.retry_job(queue, job_id))
    elif action == "discard":
        _act(f"Job {job_id} deleted.", lambda: dead_letters.discard_job(queue, job_id))
    else:
        abort(404)
    return redirect(url_for("admin.work"))
