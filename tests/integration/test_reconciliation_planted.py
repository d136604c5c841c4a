"""Hundreds of differences of every class a settlement file can carry, planted at random into a day's report of a
few thousand movements booked through the real services: every one found, with its class, and nothing else."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime

from tests.support import recon_books
from tests.support import reconciliation as recon
from webapp.domain.reconciliation import day_bounds

PER_CLASS = 120


def _next_day(line: dict[str, str], start: int) -> str:
    seconds = start + 86_400 + random.Random(line["source_id"]).randint(0, 600)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_planted_differences_are_all_found_with_their_class(app, tmp_path):
    day = datetime.now(UTC).date()
    books = recon_books.build(day, checkouts=8 * PER_CLASS + 200, refunded=2 * PER_CLASS + 40)
    rng = random.Random(2026)
    start, _ = day_bounds(day)
    charges = [line for line in books.lines if line["reporting_category"] == "charge"]
    refunds = [line for line in books.lines if line["reporting_category"] == "refund"]
    rng.shuffle(charges)
    rng.shuffle(refunds)
    expected: set[tuple[str, str]] = set()
    lines = list(books.lines)

    for line in charges[:PER_CLASS]:  # amount
        line["gross"] = f"{float(line['gross']) + rng.randint(1, 900) / 100:.2f}"
        expected.add(("amount_mismatch", line["source_id"]))
    for line in charges[PER_CLASS:2 * PER_CLASS]:  # fee
        line["fee"] = f"{float(line['fee']) + rng.choice((-1, 1)) * rng.randint(1, 20) / 100:.2f}"
        expected.add(("fee_mismatch", line["source_id"]))
    for line in charges[2 * PER_CLASS:3 * PER_CLASS]:  # currency (same exponent, so the amount parses alike)
        line["currency"] = rng.choice(("eur", "gbp", "chf"))
        expected.add(("currency_mismatch", line["source_id"]))
    for line in charges[3 * PER_CLASS:4 * PER_CLASS]:  # withheld by the PSP
        lines.remove(line)
        expected.add(("missing_at_psp", line["source_id"]))
    for line in charges[4 * PER_CLASS:5 * PER_CLASS]:  # listed twice
        lines.insert(rng.randrange(len(lines)), dict(line))
        expected.add(("duplicate", line["source_id"]))
    for line in charges[5 * PER_CLASS:6 * PER_CLASS]:  # the PSP put it just after midnight
        line["created_utc"] = _next_day(line, start)
        expected.add(("timing", line["source_id"]))
    for line in refunds[:PER_CLASS]:  # a refund we think succeeded bounced at the PSP
        bounced = dict(line, balance_transaction_id="txn_" + secrets.token_hex(8), reporting_category="refund_failure",
                       gross=line["gross"].lstrip("-"), net=line["net"].lstrip("-"))
        lines.insert(rng.randrange(len(lines)), bounced)
        expected.add(("status_mismatch", line["source_id"]))
    for _ in range(PER_CLASS):  # movements we never heard of
        unknown = dict(rng.choice(charges[6 * PER_CLASS:]), balance_transaction_id="txn_" + secrets.token_hex(8),
                       source_id="ch_unknown_" + secrets.token_hex(6), payment_intent_id="",
                       **{"payment_metadata[payment_event_id]": ""})
        lines.insert(rng.randrange(len(lines)), unknown)
        expected.add(("missing_in_ledger", unknown["source_id"]))
    # A second charge for a checkout we booked with another one: one business event, two PSP movements.
    for line in charges[6 * PER_CLASS:7 * PER_CLASS]:
        again = dict(line, balance_transaction_id="txn_" + secrets.token_hex(8),
                     source_id="ch_again_" + secrets.token_hex(6))
        lines.insert(rng.randrange(len(lines)), again)
        expected.add(("duplicate", again["source_id"]))

    result = recon.reconcile(day, recon.write(tmp_path / "planted.csv", books.header, lines))
    found = {(m.class_name, m.source_id) for m in result.mismatches}
    assert len(result.mismatches) == len(found) == len(expected)  # one mismatch each, no false positive
    assert found == expected
    assert all(m.status == "open" for m in result.mismatches)
    assert result.run.matched == result.run.rows - (len(expected) - PER_CLASS - PER_CLASS)
