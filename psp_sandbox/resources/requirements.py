"""An account's verification requirements: what is due, and whether payouts are disabled until it is given.

The sandbox never verifies anything by itself. An account is restricted on request, by the control endpoint
`POST /_sandbox/accounts/{id}/requirements` or by the test value `+restricted` in its business name, and
released by `POST /_sandbox/accounts/{id}/requirements/release` or by a business name without it. While
restricted, `payouts_enabled` is false and payout creation fails with `payouts_not_allowed`, as on Stripe.
"""

from __future__ import annotations

from psp_sandbox.store import Row

RESTRICTED_MARK = "+restricted"
DEFAULT_DUE = ["individual.verification.document"]
DEFAULT_REASON = "requirements.past_due"
# Stripe's values of requirements.disabled_reason.
DISABLED_REASONS = (
    "action_required.requested_capabilities", "listed", "other", "platform_paused", "rejected.fraud",
    "rejected.incomplete_verification", "rejected.listed", "rejected.other", "rejected.platform_fraud",
    "rejected.platform_other", "rejected.platform_terms_of_service", "rejected.terms_of_service",
    "requirements.past_due", "requirements.pending_verification", "under_review",
)


def empty() -> dict:
    return {"alternatives": [], "current_deadline": None, "currently_due": [], "disabled_reason": None,
            "errors": [], "eventually_due": [], "past_due": [], "pending_verification": []}


def restricted_by_name(account: dict) -> bool:
    return RESTRICTED_MARK in ((account.get("business_profile") or {}).get("name") or "")


def restrict(account: Row, currently_due: list[str] | None, disabled_reason: str | None, *,
             by_name: bool = False, deadline: int | None = None) -> None:
    """Fields become due (and past due), payouts are disabled with `disabled_reason`."""
    due = list(currently_due or DEFAULT_DUE)
    reason = disabled_reason or DEFAULT_REASON
    account["requirements"] = {
        **empty(), "currently_due": due, "eventually_due": due, "past_due": due, "disabled_reason": reason,
        "current_deadline": deadline,
        "errors": [],
    }
    account["payouts_enabled"] = False
    account.private["restricted_by_name"] = by_name


def release(account: Row) -> None:
    """Everything due was provided: no requirements, payouts enabled again."""
    account["requirements"] = empty()
    account["payouts_enabled"] = True
    account.private["restricted_by_name"] = False
