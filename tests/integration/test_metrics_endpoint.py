"""/metrics access rules, the Request-Id header, request ids stored on outbox rows, and money counters that move
only when the change commits (on both databases)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from tests.support import payments as pay
from tests.support.forms import csrf_token
from webapp.extensions import db
from webapp.models import OutboxMessage
from webapp.ops import metrics_flow
from webapp.ops.metrics_flow import Flow


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_answer_in_development_without_credentials(app, client):
    answer = client.get("/metrics")
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    for family in ("paysplit_http_requests_total", "paysplit_ledger_verify_ok", "paysplit_reconciliation_mismatches"):
        assert f"# TYPE {family.removesuffix('_total')}" in text


@pytest.mark.parametrize("sent, status", [(None, 401), ("Bearer wrong-token", 401), ("Bearer s3cret-scrape", 200),
                                          ("s3cret-scrape", 401)])
def test_with_a_token_a_scrape_must_send_it(app, client, sent, status):
    app.config.update(METRICS_TOKEN="s3cret-scrape", METRICS_PUBLIC=False)
    answer = client.get("/metrics", headers={"Authorization": sent} if sent else {})
    assert answer.status_code == status
    if status == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "paysplit_" not in answer.get_data(as_text=True)


def test_production_without_a_token_serves_metrics_only_on_the_internal_port(app, client):
    app.config.update(METRICS_TOKEN=None, METRICS_PUBLIC=False)
    assert client.get("/metrics").status_code == 404
    app.config.update(METRICS_PUBLIC=True, METRICS_ENABLED=False)
    assert client.get("/metrics").status_code == 404


def test_every_answer_carries_a_request_id_the_callers_when_well_formed(app, client):
    kept = client.get("/healthz", headers={"Request-Id": "req_from_the_caller_01"})
    assert kept.headers["Request-Id"] == "req_from_the_caller_01"
    replaced = client.get("/healthz", headers={"Request-Id": "bad id with spaces"})
    assert replaced.headers["Request-Id"].startswith("req_") and " " not in replaced.headers["Request-Id"]
    assert client.get("/no/such/page").headers["Request-Id"].startswith("req_")


def test_pressing_pay_records_the_request_id_on_the_outbox_row(app, client):
    _, sellers, key = pay.merchant_with_sellers()
    created = pay.Api(client, key).create(pay.body(sellers))
    payment_id = created.get_json()["id"]
    page = client.get(f"/checkout/{payment_id}")
    pressed = client.post(f"/checkout/{payment_id}/pay", data={"csrf_token": csrf_token(page.get_data(as_text=True))},
                          headers={"Request-Id": "req_buyer_pressed_pay"})
    assert pressed.status_code < 400
    db.session.rollback()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"register:{payment_id}:1"))
    assert row is not None and row.request_id == "req_buyer_pressed_pay"


def test_payments_count_when_created_and_http_requests_by_route_template(app, client):
    _, sellers, key = pay.merchant_with_sellers()
    api = pay.Api(client, key)
    before = (sample("paysplit_payments_total", status="NOT_STARTED"),
              sample("paysplit_payment_orders_amount_minor_total", status="NOT_STARTED", currency="USD"),
              sample("paysplit_http_requests_total", route="/v1/payments/<checkout_id>", method="GET", status="200"))
    created = api.create(pay.body(sellers, amounts=("3.15", "2.00")))
    assert created.status_code == 201
    assert api.get(f"/v1/payments/{created.get_json()['checkout_id']}").status_code == 200
    assert sample("paysplit_payments_total", status="NOT_STARTED") == before[0] + 1
    assert sample("paysplit_payment_orders_amount_minor_total", status="NOT_STARTED", currency="USD") == before[1] + 515
    assert sample("paysplit_http_requests_total", route="/v1/payments/<checkout_id>", method="GET",
                  status="200") == before[2] + 1
    # A repeat of the same checkout creates nothing, so counts nothing.
    assert api.create(pay.body(sellers, checkout_id=created.get_json()["checkout_id"],
                               amounts=("3.15", "2.00"))).status_code == 200
    assert sample("paysplit_payments_total", status="NOT_STARTED") == before[0] + 1


def test_money_counters_move_only_when_the_change_commits(app):
    def refunds(status: str) -> float:
        return sample("paysplit_refunds_total", status=status)

    start = refunds("TEST_ROLLED_BACK"), refunds("TEST_SAVEPOINT_UNDONE"), refunds("TEST_KEPT")
    db.session.rollback()
    db.session.execute(select(1))  # a transaction is under way, as in every service that moves money
    metrics_flow.reached(Flow.REFUND, "rfd_1", "TEST_ROLLED_BACK", "USD", 100)
    db.session.rollback()
    db.session.execute(select(1))
    with pytest.raises(RuntimeError), db.session.begin_nested():
        metrics_flow.reached(Flow.REFUND, "rfd_2", "TEST_SAVEPOINT_UNDONE", "USD", 100)
        raise RuntimeError("this savepoint rolls back")
    with db.session.begin_nested():
        metrics_flow.reached(Flow.REFUND, "rfd_3", "TEST_KEPT", "USD", 250)
        metrics_flow.reached(Flow.REFUND, "rfd_3", "TEST_KEPT", "USD", 250)  # once per object and status
    assert refunds("TEST_KEPT") == start[2]  # not before the commit
    db.session.commit()
    assert (refunds("TEST_ROLLED_BACK"), refunds("TEST_SAVEPOINT_UNDONE"), refunds("TEST_KEPT")) == (
        start[0], start[1], start[2] + 1)
    assert sample("paysplit_refunds_amount_minor_total", status="TEST_KEPT", currency="USD") >= 250
