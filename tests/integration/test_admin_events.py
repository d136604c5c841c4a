"""The console's PSP events: the inbox searched by id and type and filtered by state; an event re-applied through
the normal event path (changing nothing the second time); a poisoned event given up on, then discarded."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.support import console
from tests.support import ledger as books
from tests.support import payments as pay
from webapp.dbtypes import utcnow
from webapp.extensions import db
from webapp.models import LedgerEntry, PspEvent
from webapp.services import inbox


def _listed(client, **params) -> list[str]:
    response = client.get("/admin/events", query_string=params)
    assert response.status_code == 200, (params, response.status_code)
    return re.findall(r'data-testid="event-(evt_\w+)"', response.get_data(as_text=True))


def _event(event_id: str) -> PspEvent:
    db.session.rollback()
    found = db.session.get(PspEvent, event_id)
    assert found is not None
    db.session.expunge(found)
    db.session.rollback()
    return found


def test_search_reapply_and_discard(app, client, gateway_psp):
    _, sellers, key = pay.merchant_with_sellers()
    paid = books.paid_checkout(client, pay.Api(client, key), sellers, gateway_psp.url)
    db.session.rollback()
    completed = db.session.scalar(select(PspEvent).where(PspEvent.type == "checkout.session.completed",
                                                         PspEvent.object_id == paid.psp_session_id))
    assert completed is not None and completed.result
    entries = db.session.scalar(select(db.func.count()).select_from(LedgerEntry))
    db.session.add(PspEvent(id="evt_poisoned_console_test", type="charge.dispute.created", object_id=None,
                            payload='{"not": "an event"', received_at=utcnow()))
    db.session.commit()
    pay.wait_until(lambda: (inbox.drain(), _event("evt_poisoned_console_test").result == "dead")[1], 30, 0.1,
                   "the poisoned event to be given up on")

    console.admin_client(client)
    health = client.get("/admin/health").get_data(as_text=True)
    assert re.search(r"webhook lag, median of the last [1-9]\d* events", health)  # applied events were measured
    assert _listed(client, id=completed.id) == [completed.id]
    assert completed.id in _listed(client, id=paid.psp_session_id)  # by the object it is about
    assert set(_listed(client, type="checkout.session.")) >= {completed.id}
    assert "evt_poisoned_console_test" not in _listed(client, type="checkout.session.")
    assert _listed(client, state="dead") == ["evt_poisoned_console_test"]
    assert completed.id in _listed(client, state="applied")
    bad = client.get("/admin/events?state=stuck")
    assert bad.status_code == 400 and "State: unknown value" in bad.get_data(as_text=True)
    page = client.get(f"/admin/events/{completed.id}").get_data(as_text=True)
    assert f"/admin/payments/{paid.id}" in page and paid.psp_session_id in page.split('data-testid="event-payload"')[1]
    assert client.get("/admin/events/evt_missing").status_code == 404

    work = client.get("/admin/work").get_data(as_text=True).split('data-testid="dead-inbox"', 1)[1]
    assert "evt_poisoned_console_test" in work.split("</table>", 1)[0]
    assert console.post_form(client, "/admin/work", "/admin/work/inbox/evt_poisoned_console_test/discard") \
        .status_code == 302
    assert _event("evt_poisoned_console_test").result == "discarded"
    assert _listed(client, state="discarded") == ["evt_poisoned_console_test"] and _listed(client, state="dead") == []

    page_url = f"/admin/events/{completed.id}"
    assert console.post_form(client, page_url, f"{page_url}/reapply").status_code == 302
    assert _event(completed.id).processed_at is None and completed.id in _listed(client, state="waiting")
    pay.drain("inbox")
    again = _event(completed.id)
    assert again.processed_at is not None and again.result != "dead"
    assert pay.event(paid.id).status == "SUCCESS"
    assert db.session.scalar(select(db.func.count()).select_from(LedgerEntry)) == entries  # nothing posted twice
    db.session.rollback()
    assert console.post_form(client, "/admin/events", "/admin/events/evt_missing/reapply").status_code == 404
    actions = [(e.action, e.target_id, e.actor) for e in console.audits() if e.target_type == "psp_event"]
    assert actions == [("dead_letter.discard", "evt_poisoned_console_test", console.ADMIN),
                       ("psp_event.reapply", completed.id, console.ADMIN)]
