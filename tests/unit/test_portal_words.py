"""Status names that tell the truth, the timeline in a merchant's words, and who in a team may change what."""

from datetime import UTC, datetime, timedelta

import pytest

from webapp.domain.payment_words import CRITERIA, MerchantStatus, describe_activity, merchant_status
from webapp.domain.payments import OrderStatus
from webapp.domain.team import Area, MemberRole, area_of_endpoint, may_change

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(("status", "failure", "age", "expected"), [
    ("NOT_STARTED", None, timedelta(minutes=5), MerchantStatus.OPEN),
    ("EXECUTING", None, timedelta(minutes=59), MerchantStatus.OPEN),       # on the PSP's page: open, not "executing"
    ("EXECUTING", None, HOUR, MerchantStatus.ABANDONED),                     # left there
    ("NOT_STARTED", None, timedelta(days=2), MerchantStatus.ABANDONED),
    ("PENDING", None, timedelta(days=2), MerchantStatus.PENDING),
    ("FAILED", "expired", timedelta(0), MerchantStatus.EXPIRED),             # expired, not "failed"
    ("FAILED", "payment_failed", timedelta(0), MerchantStatus.FAILED),
    ("FAILED", "psp_unavailable", timedelta(0), MerchantStatus.FAILED),
    ("SUCCESS", None, timedelta(days=9), MerchantStatus.SUCCEEDED),
])
def test_merchant_status(status, failure, age, expected):
    assert merchant_status(status, failure, NOW - age, NOW, HOUR) is expected


def test_every_stored_status_has_exactly_one_merchant_filter():
    for status in OrderStatus:
        for failure in (None, "expired", "payment_failed"):
            for recent in (True, False):
                matching = [name for name, rule in CRITERIA.items() if status in rule.statuses
                            and (rule.failure_code is None or rule.failure_code == failure)
                            and (rule.exclude_failure_code is None or rule.exclude_failure_code != failure)
                            and (rule.recent is None or rule.recent == recent)]
                named = merchant_status(status, failure, NOW - (timedelta(0) if recent else 2 * HOUR), NOW, HOUR)
                assert matching == [named], (status, failure, recent)


@pytest.mark.parametrize(("kind", "detail", "words"), [
    ("attempt", "Buyer pressed Pay: attempt 1", "The buyer pressed Pay."),
    ("attempt", "Buyer pressed Pay: attempt 3", "The buyer tried again (attempt 3)."),
    ("status", "NOT_STARTED → EXECUTING (PSP session created)", "The buyer was sent to the payment page."),
    ("status", "EXECUTING → SUCCESS (checkout.session.completed)",
     "Payment received (reported by the payment provider)."),
    ("status", "EXECUTING → SUCCESS (polled the PSP)", "Payment received (confirmed with the payment provider)."),
    ("status", "EXECUTING → FAILED (checkout.session.expired)",
     "The payment page expired before the buyer paid (reported by the payment provider)."),
    ("status", "NOT_STARTED → FAILED (executor gave up)",
     "The payment provider could not be reached; no money was taken."),
    ("refund", "Refund rfd_1: requested → succeeded (refund.updated)", "Refund rfd_1 was paid back to the buyer."),
    ("funds", "PSP processing fee 0.45 USD booked for charge ch_1", None),  # the platform's own books
    ("funds", "Funds available at the PSP: 4.70 USD net of charge ch_1",
     "The sellers' money became available in their wallets."),
])
def test_timeline_words(kind, detail, words):
    assert describe_activity(kind, detail) == words
    if words:
        assert "→" not in words and "EXECUTING" not in words and "PSP" not in words


def test_roles():
    assert all(may_change(MemberRole.OWNER, area) for area in Area)
    assert may_change(MemberRole.DEVELOPER, Area.INTEGRATION)
    assert not may_change(MemberRole.DEVELOPER, Area.BUSINESS) and not may_change(MemberRole.DEVELOPER, Area.TEAM)
    assert not any(may_change(MemberRole.VIEWER, area) for area in Area)
    assert area_of_endpoint("portal.keys") is Area.INTEGRATION
    assert area_of_endpoint("portal.revoke_key") is Area.INTEGRATION
    assert area_of_endpoint("portal.webhook_endpoints") is Area.INTEGRATION
    assert area_of_endpoint("portal.team_add") is Area.TEAM
    assert area_of_endpoint("portal.refund_order") is Area.BUSINESS
