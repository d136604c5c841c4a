"""The console's background work: queue depths, backlogs and dead letters, on the page and in the Prometheus
collector; a dead outbox row retried from the console is done by a real worker process, another is discarded; a
failed RQ job is requeued and then deleted. Every action is audited."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from tests.support import console
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support.processes import python, start
from tests.support.sandbox import clear_faults, set_faults
from webapp.extensions import db
from webapp.models import OutboxMessage, Refund
from webapp.ops.pipeline_metrics import PipelineCollector
from webapp.services import refunds
from workers import jobs


def _metric(registry: CollectorRegistry, name: str, labels: dict | None = None) -> float | None:
    """A sample scraped now. The test's session ends its transaction first: the app's SQLite transactions begin
    IMMEDIATE, so one left open by the test's requests would block the collector's own."""
    db.session.rollback()
    return registry.get_sample_value(name, labels or {})


def _outbox_row(refund_id: str) -> OutboxMessage:
    """The refund's outbox row, detached (SQLite: no transaction is left open to block the app's own)."""
    db.session.rollback()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"refund:{refund_id}"))
    assert row is not None
    db.session.expunge(row)
    db.session.rollback()
    return row


def _refund(refund_id: str) -> Refund:
    db.session.rollback()
    found = db.session.get(Refund, refund_id)
    assert found is not None
    db.session.expunge(found)
    db.session.rollback()
    return found


def test_dead_outbox_rows_retried_by_a_real_worker_or_discarded(app, client, gateway_psp, redis_url, logs_dir):
    _, sellers, key = pay.merchant_with_sellers()
    api = pay.Api(client, key)
    paid = books.paid_checkout(client, api, sellers, gateway_psp.url, amounts=("3.00", "2.00"))
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    set_faults(gateway_psp.url, {"seed": 1, "api": [{"path_prefix": "/v1/refunds", "error_rate": 1.0,
                                                     "error_kinds": ["503"]}]})
    try:
        kept, dropped = (client.post(f"/v1/payments/{paid.checkout_id}/refunds", headers=api.headers(), json={
            "payment_order_id": order.payment_order_id, "amount": "1.00"}).json["id"] for order in paid.orders)
        with pytest.raises(jobs.DeadLetter):
            books.drain_money(refunds.CREATE_TOPIC)
    finally:
        clear_faults(gateway_psp.url)
    kept_row, dropped_row = _outbox_row(kept), _outbox_row(dropped)
    assert (kept_row.status, dropped_row.status) == ("dead", "dead")
    assert "PspUnavailable" in (kept_row.last_error or "")

    registry = CollectorRegistry()
    registry.register(PipelineCollector())
    assert _metric(registry, "paysplit_dead_letters", {"queue": "default"}) == 2
    assert _metric(registry, "paysplit_inbox_backlog") == 0

    console.admin_client(client)
    page = client.get("/admin/work").get_data(as_text=True)
    dead = page.split('data-testid="dead-outbox"', 1)[1].split("</table>", 1)[0]
    assert dead.count(f"/admin/payments/{paid.id}") == 2 and "refunds.create" in dead and "PspUnavailable" in dead
    health = client.get("/admin/health").get_data(as_text=True)
    assert re.search(r'data-testid="health-dead"><div class="stat-value[^"]*">2<', health)

    assert console.post_form(client, "/admin/work", f"/admin/work/outbox/{dropped_row.id}/discard").status_code == 302
    assert console.post_form(client, "/admin/work", f"/admin/work/outbox/{kept_row.id}/retry").status_code == 302
    again = console.post_form(client, "/admin/work", f"/admin/work/outbox/{kept_row.id}/retry", follow_redirects=True)
    assert "only dead rows can be retried" in again.get_data(as_text=True)
    discarded = _outbox_row(dropped)
    assert discarded.status == "done" and (discarded.last_error or "").startswith(f"discarded by {console.ADMIN}: ")
    assert _metric(registry, "paysplit_dead_letters", {"queue": "default"}) == 0
    assert _metric(registry, "paysplit_outbox_backlog", {"topic": refunds.CREATE_TOPIC}) == 1

    db.session.rollback()
    worker = start("console-worker", python("-m", "workers"), logs_dir, console.worker_env(app, redis_url))
    try:
        pay.wait_until(lambda: _refund(kept).psp_refund_id, 60, 0.2, "the real worker to create the refund")
    finally:
        worker.kill()
    assert _outbox_row(kept).status == "done"
    assert (_refund(dropped).status, _refund(dropped).psp_refund_id) == ("requested", None)
    actions = [(e.action, e.actor, e.target_id) for e in console.audits() if e.target_type == "outbox"]
    assert actions == [("dead_letter.discard", console.ADMIN, str(dropped_row.id)),
                       ("dead_letter.retry", console.ADMIN, str(kept_row.id))]


def test_failed_rq_job_requeued_then_deleted(app, client, redis_url):
    connection = Redis.from_url(redis_url)
    low = Queue("low", connection=connection)
    low.empty()  # this test session's Redis may hold what earlier tests left in `low`
    stale = FailedJobRegistry("low", connection=connection)
    for job_id in stale.get_job_ids():
        stale.remove(job_id, delete_job=True)
    job = low.enqueue("workers.jobs.drain", "no.such.topic", failure_ttl=600)
    SimpleWorker([low], connection=connection).work(burst=True)
    failed = FailedJobRegistry("low", connection=connection)
    # Failed here, or by a worker of an earlier test still on this session's Redis as it stopped: either way, soon.
    pay.wait_until(lambda: job.id in failed, 15, 0.1, "the job in the failed registry")

    console.admin_client(client)
    page = client.get("/admin/work").get_data(as_text=True)
    row = page.split(f'data-testid="failed-job-{job.id}"', 1)[1].split("</tr>", 1)[0]
    assert "KeyError" in row and "no.such.topic" in row and "workers.jobs.drain" in row

    assert console.post_form(client, "/admin/work", f"/admin/work/jobs/low/{job.id}/retry").status_code == 302
    assert job.id not in failed and low.count == 1
    registry = CollectorRegistry()
    registry.register(PipelineCollector())
    assert _metric(registry, "paysplit_queue_depth", {"queue": "low"}) == 1
    assert 'data-testid="queue-low"><div class="stat-value">1<' in client.get("/admin/work").get_data(as_text=True)
    SimpleWorker([low], connection=connection).work(burst=True)  # fails the same way again
    pay.wait_until(lambda: job.id in failed, 15, 0.1, "the job failed again")
    assert _metric(registry, "paysplit_dead_letters", {"queue": "low"}) == 1

    assert console.post_form(client, "/admin/work", f"/admin/work/jobs/low/{job.id}/discard").status_code == 302
    assert job.id not in failed and not Job.exists(job.id, connection=connection)
    gone = console.post_form(client, "/admin/work", f"/admin/work/jobs/low/{job.id}/retry", follow_redirects=True)
    assert "No failed job" in gone.get_data(as_text=True)
    assert console.post_form(client, "/admin/work", "/admin/work/jobs/nope/x/retry", follow_redirects=True) \
        .status_code == 200
    assert [(e.action, e.target_id) for e in console.audits() if e.target_type == "rq_job"] == \
        [("dead_letter.retry", job.id), ("dead_letter.discard", job.id)]


def test_health_shows_the_last_scheduled_ledger_verification(app, client):
    from webapp.services import ledger_checks

    console.admin_client(client)
    assert "No scheduled verification yet" in client.get("/admin/health").get_data(as_text=True)
    assert ledger_checks.verify_and_record(0).ok
    db.session.rollback()
    health = client.get("/admin/health").get_data(as_text=True)
    shown = health.split('data-testid="health-ledger-verify"', 1)[1].split("</dl>", 1)[0]
    assert "Last scheduled verification" in shown and "succeeded" in shown
