"""Admin: reconciliation runs (Run now, file upload, live progress) and the mismatch queue with its actions.

Routes translate and delegate: queries live in webapp.services.reconciliation.pages, actions in …queue.
"""

from __future__ import annotations

import json
from datetime import date

import redis
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from simple_websocket import ConnectionClosed

from webapp.admin import bp
from webapp.auth.access import admin_required
from webapp.domain.errors import DomainError
from webapp.domain.money import Money
from webapp.domain.reconciliation import AdjustTarget
from webapp.extensions import db, sock
from webapp.models import ReconRun
from webapp.services.reconciliation import pages, queue, requests, runs
from webapp.services.reconciliation.progress import channel


def _day(raw: str | None) -> date:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        raise DomainError("Give the day as YYYY-MM-DD.", param="date")


@bp.get("/reconciliation")
@admin_required
def reconciliation():
    return render_template("admin/reconciliation.html", rows=pages.recent_runs(), open_counts=pages.open_by_class(),
                           classes=pages.CLASSES, yesterday=runs.previous_day())


@bp.post("/reconciliation/runs")
@admin_required
def reconciliation_start():
    try:
        run = requests.request_run(_day(request.form.get("date")), current_user.email, request.files.get("file"))
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.reconciliation"))
    return redirect(url_for("admin.reconciliation_run", run_id=run.id))


@bp.get("/reconciliation/runs/<run_id>")
@admin_required
def reconciliation_run(run_id: str):
    run = db.session.get(ReconRun, run_id)
    if run is None:
        abort(404)
    status, class_name = request.args.get("status") or None, request.args.get("class") or None
    return render_template("admin/reconciliation_run.html", run=run, counts=json.loads(run.counts or "{}"),
                           mismatches=pages.run_mismatches(run, status, class_name), status=status,
                           class_name=class_name, classes=pages.CLASSES, statuses=pages.STATUSES)


@bp.get("/reconciliation/mismatches/<mismatch_id>")
@admin_required
def reconciliation_mismatch(mismatch_id: str):
    try:
        mismatch = queue.get(mismatch_id)
    except DomainError:
        abort(404)
    view = pages.mismatch_view(mismatch)
    suggested = queue.suggested_delta(mismatch)
    return render_template("admin/reconciliation_mismatch.html", view=view, m=mismatch, targets=list(AdjustTarget),
                           suggested=Money(abs(suggested), mismatch.currency).decimal_string
                           if mismatch.currency and suggested else "", suggested_sign="-" if suggested < 0 else "")


def _amount(raw: str | None, currency: str | None) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    negative = text.startswith("-")
    minor = Money.parse(text.lstrip("-+"), currency or "", param="amount").minor
    return -minor if negative else minor


@bp.post("/reconciliation/mismatches/<mismatch_id>/<action>")
@admin_required
def reconciliation_act(mismatch_id: str, action: str):
    actor, note = current_user.email, request.form.get("note")
    try:
        if action == "take":
            queue.take(mismatch_id, actor)
        elif action == "refetch":
            queue.refetch(mismatch_id, actor)
        elif action == "adjust":
            mismatch = queue.get(mismatch_id)
            queue.adjust(mismatch_id, actor, AdjustTarget(request.form.get("target", "suspense")),
                         _amount(request.form.get("amount"), mismatch.currency), note)
        elif action == "accept":
            queue.accept(mismatch_id, actor, note)
        elif action == "reopen":
            queue.reopen(mismatch_id, actor, note)
        else:
            abort(404)
        flash(f"Done: {action}.", "success")
    except (DomainError, ValueError) as exc:
        db.session.rollback()
        flash(getattr(exc, "message", str(exc)), "error")
    return redirect(url_for("admin.reconciliation_mismatch", mismatch_id=mismatch_id))


@sock.route("/ws/reconciliation/<run_id>")
def reconciliation_socket(ws, run_id: str) -> None:
    """The run's progress while it works; closes when it has finished."""
    if not (current_user.is_authenticated and current_user.is_admin):
        ws.close(reason=1008, message="admins only")
        return
    client = redis.Redis.from_url(current_app.config["REDIS_URL"])
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel(run_id))
    try:
        run = db.session.get(ReconRun, run_id)
        status = run.status if run else "failed"
        db.session.remove()
        ws.send(json.dumps({"run": run_id, "status": status}))
        while ws.connected and status == "running":
            message = pubsub.get_message(timeout=5)
            if message is None:
                run = db.session.get(ReconRun, run_id)  # the end may have been published before we listened
                status = run.status if run else "failed"
                db.session.remove()
                if status != "running":
                    ws.send(json.dumps({"run": run_id, "status": status}))
                continue
            data = json.loads(message["data"])
            ws.send(json.dumps(data))
            status = data.get("status", status)
    except ConnectionClosed:
        pass
    finally:
        pubsub.close()
        client.close()
