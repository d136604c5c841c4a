"""Reconciling a real day's settlement report (fetched from the sandbox's Reporting API, edited where a test says
so) against our records and ledger, on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest

from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import reconciliation as recon


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    """Reconciliation compares everything the PSP holds: a sandbox of the test's own, holding only its activity."""
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


@pytest.fixture
def day_of_activity(client, psp):
    """Two paid checkouts and a partial refund, fees booked, webhooks applied."""
    _, sellers, key = pay.merchant_with_sellers()
    api = pay.Api(client, key)
    first = books.paid_checkout(client, api, sellers, psp.url, amounts=("3.15", "2.00"))
    second = books.paid_checkout(client, api, sellers, psp.url, amounts=("10.00",))
    refund_id = recon.refund(api, first.checkout_id, first.orders[0].payment_order_id, "1.00")
    pay.wait_until(lambda: (books.drain_money(), recon.refund_paid(refund_id))[1], what="refund paid")
    return recon.psp_day(psp.url), [first, second], refund_id


def test_a_clean_day_has_no_mismatch(day_of_activity, psp, tmp_path):
    day, _, _ = day_of_activity
    header, lines = recon.rows(recon.report_csv(psp.url, day))
    assert sorted(line["reporting_category"] for line in lines) == ["charge", "charge", "refund"]
    result = recon.reconcile(day, recon.write(tmp_path / "day.csv", header, lines))
    assert result.mismatches == []
    assert (result.run.rows, result.run.matched, result.run.open_count) == (3, 3, 0)


@pytest.mark.parametrize(("gross", "why"), [("1.005", "more decimals than USD allows"),
                                            ("+1.00", "is not a decimal number"),
                                            ("01.00", "is not a decimal number"),
                                            ("1.", "is not a decimal number")])
def test_an_amount_not_written_exactly_fails_the_import_naming_its_line(app, tmp_path, gross, why):
    """The import's fast path for plain amounts takes nothing `parse_amount` would refuse: the file fails whole,
    naming the line, and nothing of it is kept."""
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import ReconImport, ReconRow, ReconRun
    from webapp.services.reconciliation.settlement import PLATFORM_COLUMNS, BadSettlementFile

    day = datetime.now(UTC).date()
    good = {c: "" for c in PLATFORM_COLUMNS} | {
        "balance_transaction_id": "txn_1", "created_utc": f"{day} 10:00:00", "currency": "usd", "gross": "5.00",
        "fee": "0.45", "reporting_category": "charge", "source_id": "ch_1"}
    bad = dict(good, balance_transaction_id="txn_2", source_id="ch_2", gross=gross)
    path = recon.write(tmp_path / "bad.csv", list(PLATFORM_COLUMNS), [good, good | {"balance_transaction_id": "t3"},
                                                                      bad])
    with pytest.raises(BadSettlementFile) as failed:
        recon.reconcile(day, path)
    assert "line 4" in failed.value.message and why in failed.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ReconRow)) == 0
    assert db.session.scalar(select(func.count()).select_from(ReconImport)) == 0
    assert db.session.scalars(select(ReconRun.status)).all()[-1] == "failed"
