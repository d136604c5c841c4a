"""Reads behind the admin's PSP events page: the inbox, searchable by event id and type, with each event's
processing state, newest first (keyset on (received_at, id))."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import and_, or_, select

from webapp.extensions import db
from webapp.models import PspEvent
from webapp.services.pipeline_reads import DEAD, Concern, event_concerns

PAGE = 50


class EventState(StrEnum):
    """Where an inbox event is: waiting to be applied, applied (with its result), given up on, or discarded."""

    WAITING = "waiting"
    APPLIED = "applied"
    DEAD = "dead"
    DISCARDED = "discarded"


def state_of(event: PspEvent) -> EventState:
    if event.processed_at is None:
        return EventState.WAITING
    if event.result in (DEAD, EventState.DISCARDED.value):
        return EventState(event.result)
    return EventState.APPLIED


@dataclass(frozen=True)
class EventPage:
    events: list[PspEvent]
    concerns: dict[str, Concern]
    next_cursor: str | None


def _condition(state: EventState):
    if state is EventState.WAITING:
        return PspEvent.processed_at.is_(None)
    if state is EventState.APPLIED:
        return and_(PspEvent.processed_at.is_not(None),
                    or_(PspEvent.result.is_(None), PspEvent.result.not_in([DEAD, EventState.DISCARDED.value])))
    return PspEvent.result == state.value


def search(*, event_id: str | None = None, type_prefix: str | None = None, state: EventState | None = None,
           after: str | None = None, limit: int = PAGE) -> EventPage:
    """Events by exact id, by type (a prefix: `refund.` finds every refund event), by state."""
    query = select(PspEvent)
    if event_id:
        query = query.where(or_(PspEvent.id == event_id, PspEvent.object_id == event_id))
    if type_prefix:
        query = query.where(PspEvent.type.startswith(type_prefix, autoescape=True))
    if state:
        query = query.where(_condition(state))
    if after:
        anchor = db.session.get(PspEvent, after)
        if anchor is not None:
            query = query.where(or_(PspEvent.received_at < anchor.received_at,
                                    and_(PspEvent.received_at == anchor.received_at, PspEvent.id < anchor.id)))
    rows = list(db.session.scalars(query.order_by(PspEvent.received_at.desc(), PspEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return EventPage(rows, event_concerns({r.object_id for r in rows if r.object_id}),
                     rows[-1].id if more and rows else None)


def types() -> list[str]:
    return list(db.session.scalars(select(PspEvent.type).distinct().order_by(PspEvent.type)))


def get(event_id: str) -> PspEvent | None:
    return db.session.get(PspEvent, event_id)


def pretty_payload(event: PspEvent) -> str:
    try:
        return json.dumps(json.loads(event.payload), indent=2, sort_keys=True)
    except ValueError:
        return event.payload
