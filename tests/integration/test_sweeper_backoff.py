"""The sweeper polls quiet checkouts and payouts less and less often, so abandoned ones — a PSP session stays
open a day — neither flood the PSP nor keep recent ones out of the sweeper's batch."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.support import payments as pay
from webapp.dbtypes import utcnow
from webapp.extensions import db
from webapp.models import OutboxMessage, PaymentEvent
from webapp.services import checkout, sweeper, topics


@pytest.fixture
def shop(client):
    _, sellers, key = pay.merchant_with_sellers()
    return sellers, pay.Api(client, key)


def _quiet_for(checkout_id: str, quiet: timedelta) -> None:
    db.session.execute(update(PaymentEvent).where(PaymentEvent.id == checkout_id)
                       .values(updated_at=utcnow() - quiet))
    db.session.commit()


def _polled(status: str | None = None) -> set[str]:
    """Checkouts the sweeper asked about so far (their poll messages in the outbox)."""
    db.session.rollback()
    query = select(OutboxMessage).where(OutboxMessage.topic == checkout.POLL_TOPIC)
    if status:
        query = query.where(OutboxMessage.status == status)
    sessions = {json.loads(row.payload)["session"] for row in db.session.scalars(query)}
    return set(db.session.scalars(select(PaymentEvent.id).where(PaymentEvent.psp_session_id.in_(sessions))))


def _sweep() -> set[str]:
    """A sweep, then the workers' polls (which find the sessions still open: nothing changes)."""
    db.session.rollback()
    sweeper.sweep()
    pay.drain(checkout.POLL_TOPIC)
    assert _polled("pending") == set()
    return _polled()


def test_abandoned_checkouts_do_not_starve_a_recent_one_and_are_polled_less_often(app, shop, client, monkeypatch):
    sellers, api = shop
    abandoned = [pay.executing_checkout(client, api, sellers).id for _ in range(3)]
    recent = pay.executing_checkout(client, api, sellers).id
    fresh = pay.executing_checkout(client, api, sellers).id  # news a moment ago: not polled yet
    for n, checkout_id in enumerate(abandoned):
        _quiet_for(checkout_id, timedelta(hours=5, minutes=n))
    _quiet_for(recent, timedelta(minutes=10))
    app.config.update(PSP_SYNC_AFTER_SECONDS=300, PSP_SYNC_MAX_INTERVAL_SECONDS=3600)
    monkeypatch.setattr(sweeper, "BATCH", 2)
    assert _sweep() == set(abandoned[1:])  # the two quiet longest
    assert _sweep() == {*abandoned, recent}  # those two are not due again: the next two get their turn
    assert _sweep() == {*abandoned, recent}  # nothing is due now; the fresh one is not quiet yet
    assert fresh not in _polled()

    db.session.rollback()
    due = {e.id: (e.sync_due_at - utcnow(), e.updated_at) for e in
           db.session.scalars(select(PaymentEvent).where(PaymentEvent.id.in_([*abandoned, recent])))}
    for checkout_id in abandoned:  # quiet for hours: the next poll in an hour (the ceiling)
        assert timedelta(minutes=59) < due[checkout_id][0] <= timedelta(hours=1)
    # quiet for ten minutes: asked again after another ten (the wait as long as the quiet so far)
    assert timedelta(minutes=9) < due[recent][0] <= timedelta(minutes=10, seconds=5)
    # scheduling a poll is not news: the checkouts still count as quiet since before
    assert utcnow() - due[recent][1] >= timedelta(minutes=10)

    _quiet_for(recent, timedelta(minutes=25))  # time passes: due again, and polled again
    db.session.execute(update(PaymentEvent).where(PaymentEvent.id == recent)
                       .values(sync_due_at=utcnow() - timedelta(seconds=1), updated_at=PaymentEvent.updated_at))
    db.session.commit()
    before = db.session.scalar(select(PaymentEvent.sync_due_at).where(PaymentEvent.id == recent))
    _sweep()
    after = db.session.scalar(select(PaymentEvent.sync_due_at).where(PaymentEvent.id == recent))
    assert timedelta(minutes=24) < after - before <= timedelta(minutes=26)
    assert {pay.event(c).status for c in [*abandoned, recent, fresh]} == {"EXECUTING"}


def test_no_more_polls_are_queued_while_a_batch_of_them_still_waits(app, shop, client, monkeypatch):
    """A slow PSP makes the sweeper's polls late; it never piles them up (nor starves what buyers wait on: the
    polls run on the low queue)."""
    sellers, api = shop
    quiet = [pay.executing_checkout(client, api, sellers).id for _ in range(3)]
    for checkout_id in quiet:
        _quiet_for(checkout_id, timedelta(hours=1))
    app.config.update(PSP_SYNC_AFTER_SECONDS=300, PSP_SYNC_MAX_INTERVAL_SECONDS=3600)
    monkeypatch.setattr(sweeper, "BATCH", 2)
    db.session.rollback()
    assert sweeper.sweep().syncs_requested == 2
    db.session.rollback()
    assert sweeper.sweep().syncs_requested == 0  # two polls still wait: no room
    assert len(_polled("pending")) == 2
    pay.drain(checkout.POLL_TOPIC)
    db.session.rollback()
    assert sweeper.sweep().syncs_requested == 1  # the third one's turn
    assert topics.queue_of(checkout.POLL_TOPIC) is topics.Queue.LOW
    assert topics.queue_of(checkout.SYNC_TOPIC) is topics.Queue.HIGH
