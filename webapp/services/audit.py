"""The audit log: every money-moving and admin action, with who, when, what and from where.

`record()` adds a row to the caller's transaction, so an action and its audit row commit (or roll back) together;
the service that acts commits. Nothing updates or deletes a row (PostgreSQL refuses it with a trigger).

Who acted: services take an `Actor`; when the caller gives none, `current_actor()` names the signed-in user or the
API key of the request being served (with the caller's address), and `system` outside a request (jobs, cron).
The command line passes `Actor.cli()`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from webapp.dbtypes import utcnow
from webapp.extensions import db
from webapp.models import AuditEntry

SYSTEM, CLI = "system", "cli"


@dataclass(frozen=True)
class Actor:
    """Who acted (a user's email, `api_key:<id>`, `cli`, `system`) and from which address."""

    name: str
    ip: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        return cls(CLI)

    @classmethod
    def system(cls) -> Actor:
        return cls(SYSTEM)


def current_actor() -> Actor:
    """The actor of the request being served, or `system` outside a request."""
    if not has_request_context():
        return Actor.system()
    ip = request.remote_addr
    if current_user and current_user.is_authenticated:
        return Actor(current_user.email, ip)
    if getattr(g, "api_key_id", None) and request.authorization is not None:  # set by api_key_required
        return Actor(f"api_key:{g.api_key_id}", ip)
    return Actor(SYSTEM, ip)


def record(actor: str, action: str, target_type: str, target_id: str, detail: dict | None = None,
           ip: str | None = None) -> AuditEntry:
    """Add one audit row to the current transaction (the caller commits)."""
    entry = AuditEntry(at=utcnow(), actor=actor[:255], action=action[:60], target_type=target_type[:40],
                       target_id=str(target_id)[:255], detail=json.dumps(detail or {}, sort_keys=True, default=str),
                       ip=(ip or None) and ip[:64])
    db.session.add(entry)
    return entry


def note(action: str, target_type: str, target_id: str, detail: dict | None = None, *,
         actor: Actor | None = None) -> AuditEntry:
    """`record()` for `actor`, or for whoever the current request is."""
    who = actor or current_actor()
    return record(who.name, action, target_type, target_id, detail, who.ip)


# Reading the log (the admin's Audit log page).

@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    target: str | None = None   # a target id
    since: date | None = None   # UTC days, inclusive
    until: date | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_before: int | None  # the id to continue from (older entries), None on the last page


def page(where: AuditFilter, *, before: int | None = None, limit: int = 50) -> AuditPage:
    """Newest first, `limit` at a time (keyset on the id: entries are only ever appended)."""
    query = select(AuditEntry)
    if where.actor:
        query = query.where(AuditEntry.actor == where.actor)
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.target:
        query = query.where(AuditEntry.target_id == where.target)
    if where.since:
        query = query.where(AuditEntry.at >= datetime.combine(where.since, time(), UTC))
    if where.until:
        query = query.where(AuditEntry.at < datetime.combine(where.until + timedelta(days=1), time(), UTC))
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = list(db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, rows[-1].id if more and rows else None)


def actions() -> list[str]:
    """The actions recorded so far (the page's filter choices)."""
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def for_target(target_type: str, target_id: str, limit: int = 100) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.target_type == target_type,
                                                            AuditEntry.target_id == target_id)
                                   .order_by(AuditEntry.id.desc()).limit(limit)))


def detail_of(entry: AuditEntry) -> dict:
    return json.loads(entry.detail or "{}")
