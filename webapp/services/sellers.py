"""Seller accounts: creating and changing them, and mirroring their connected accounts at the PSP.

A new seller is an `onboarding` row and an outbox job (`sellers.onboard`, seller_jobs) that creates its Custom
connected account with its bank account, keyed by our row. Replacing the IBAN registers a new default bank
account (`sellers.bank_account`). The PSP's `account.updated` and bank account news set `account_state`,
`payouts_enabled`, the requirements due and the bank account's state (an errored bank account pauses payouts).
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.dbtypes import utcnow
from webapp.domain.errors import Conflict, NotFound, ValidationError
from webapp.domain.payouts import AccountState, BankAccountStatus, Interval, Schedule, account_state
from webapp.domain.sellers import NewSeller, SellerChanges
from webapp.extensions import db
from webapp.models import Merchant, SellerAccount
from webapp.psp import BankAccountState, ConnectedAccount, PspBankAccount
from webapp.services import outbox, webhook_events

ONBOARD_TOPIC = "sellers.onboard"
BANK_TOPIC = "sellers.bank_account"


def schedule_of(seller: SellerAccount) -> Schedule:
    return Schedule(Interval(seller.payout_interval), seller.payout_weekly_anchor, seller.payout_monthly_anchor,
                    seller.payout_delay_days)


def merchant_schedule(merchant: Merchant) -> Schedule:
    """The payout schedule a merchant's new sellers get unless they name their own (default: daily)."""
    if merchant.default_payout_schedule:
        return Schedule.from_json(json.loads(merchant.default_payout_schedule))
    return Schedule()


def set_merchant_defaults(merchant: Merchant, schedule: Schedule, minimum_payout_minor: int) -> None:
    """The schedule and minimum the merchant's new sellers get unless they name their own (commits)."""
    if type(minimum_payout_minor) is not int or minimum_payout_minor < 0:
        raise ValidationError("The minimum payout must not be negative.", param="minimum_payout_amount")
    merchant.default_payout_schedule = json.dumps(schedule.as_json())
    merchant.default_minimum_payout_minor = minimum_payout_minor
    db.session.commit()


def _set_schedule(seller: SellerAccount, schedule: Schedule) -> None:
    seller.payout_interval = schedule.interval.value
    seller.payout_weekly_anchor, seller.payout_monthly_anchor = schedule.weekly_anchor, schedule.monthly_anchor
    seller.payout_delay_days = schedule.delay_days


def get(merchant: Merchant, seller_id: str) -> SellerAccount:
    seller = db.session.get(SellerAccount, seller_id)
    if seller is None or seller.merchant_id != merchant.id:
        raise NotFound(f"No such seller account: {seller_id!r}.", param="seller_account")
    return seller


def _iban_taken(merchant_id: str, iban: str, other_than: str | None = None) -> bool:
    query = select(SellerAccount.id).where(SellerAccount.merchant_id == merchant_id, SellerAccount.iban == iban)
    if other_than:
        query = query.where(SellerAccount.id != other_than)
    return db.session.scalar(query) is not None


def _iban_conflict() -> Conflict:
    return Conflict("This merchant already has a seller account with that IBAN.", param="iban",
                    code="iban_already_used")


def _finish(commit: bool) -> None:
    """Commit, or only flush for a caller that commits with more (the API stores its idempotent answer in the
    same commit). Two requests giving one IBAN at the same moment both pass the check above; the database's
    unique (merchant, iban) refuses the second, answered like the check would have."""
    try:
        if commit:
            db.session.commit()
        else:
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise _iban_conflict()


def create(merchant: Merchant, command: NewSeller, *, commit: bool = True) -> SellerAccount:
    """Add a seller account and queue its onboarding at the PSP (commits unless told not to)."""
    if _iban_taken(merchant.id, command.iban):
        raise _iban_conflict()
    seller = SellerAccount(merchant=merchant, display_name=command.display_name, iban=command.iban,
                           currency=command.currency, email=command.email, country=command.country_or_iban,
                           account_state=AccountState.ONBOARDING.value, bank_account_status=BankAccountStatus.PENDING,
                           payouts_enabled=False, requirements_due="", bank_account_version=1,
                           minimum_payout_minor=command.minimum_payout_minor
                           if command.minimum_payout_minor is not None
                           else merchant.default_minimum_payout_minor or 0)
    _set_schedule(seller, command.schedule or merchant_schedule(merchant))
    db.session.add(seller)
    _finish(commit=False)
    request_onboarding(seller)
    _finish(commit)
    return seller


def request_onboarding(seller: SellerAccount) -> None:
    """Queue creating the seller's connected account (once per seller; caller commits)."""
    outbox.add(ONBOARD_TOPIC, f"seller-onboard:{seller.id}", {"seller": seller.id})


def update(merchant: Merchant, seller_id: str, changes: SellerChanges, *, commit: bool = True) -> SellerAccount:
    """Change a seller's name, email, schedule, minimum or bank account (commits unless told not to). A new IBAN
    is registered at the PSP as the new default bank account; until then the seller's bank account is
    `pending` (payouts wait for it)."""
    if changes.iban is not None and _iban_taken(merchant.id, changes.iban, other_than=get(merchant, seller_id).id):
        raise _iban_conflict()
    found = db.session.scalar(select(SellerAccount).where(SellerAccount.id == seller_id)
                              .with_for_update().execution_options(populate_existing=True))
    assert found is not None
    seller = found
    if changes.display_name is not None:
        seller.display_name = changes.display_name
    if changes.email is not None:
        seller.email = changes.email
    if changes.schedule is not None:
        _set_schedule(seller, changes.schedule)
    if changes.minimum_payout_minor is not None:
        seller.minimum_payout_minor = changes.minimum_payout_minor
    if changes.iban is not None and changes.iban != seller.iban:
        seller.iban = changes.iban
        seller.bank_account_version += 1
        seller.bank_account_status = BankAccountStatus.PENDING.value
        if seller.psp_account_id:
            outbox.add(BANK_TOPIC, f"seller-bank:{seller.id}:{seller.bank_account_version}",
                       {"seller": seller.id, "version": seller.bank_account_version})
    seller.updated_at = utcnow()
    _finish(commit=False)
    webhook_events.seller_changed(seller)
    _finish(commit)
    return seller


def set_status(merchant: Merchant, seller_id: str, status: str) -> SellerAccount:
    """Accept (`active`) or refuse (`disabled`) new payments to a seller (commits)."""
    seller = get(merchant, seller_id)
    if status not in ("active", "disabled"):
        raise ValidationError("Status must be active or disabled.", param="status")
    seller.status = status
    webhook_events.seller_changed(seller)
    db.session.commit()
    return seller


def _mirror(seller: SellerAccount, found: ConnectedAccount) -> None:
    seller.payouts_enabled = found.payouts_enabled
    seller.requirements_due = ",".join(found.requirements_due)[:2000]
    seller.disabled_reason = found.disabled_reason
    seller.account_state = account_state(created=True, payouts_enabled=found.payouts_enabled,
                                         requirements_due=bool(found.requirements_due),
                                         disabled_reason=found.disabled_reason).value
    current = next((b for b in found.bank_accounts if b.id == seller.bank_account_psp_id), None)
    if current is not None and current.state is BankAccountState.ERRORED:
        seller.bank_account_status = BankAccountStatus.ERRORED.value
    seller.updated_at = utcnow()


def onboarded(seller_id: str, found: ConnectedAccount) -> None:
    """The seller's connected account exists at the PSP (caller commits)."""
    seller = db.session.get(SellerAccount, seller_id, with_for_update=True)
    if seller is None:
        return
    seller.psp_account_id = found.id
    default = next((b for b in found.bank_accounts if b.default), found.bank_accounts[0] if found.bank_accounts
                   else None)
    if default is not None and seller.bank_account_version == 1:
        seller.bank_account_psp_id = default.id
        seller.bank_account_status = BankAccountStatus.ACTIVE.value
    elif seller.bank_account_version > 1:  # the IBAN changed while the account was being created
        outbox.add(BANK_TOPIC, f"seller-bank:{seller.id}:{seller.bank_account_version}",
                   {"seller": seller.id, "version": seller.bank_account_version})
    _mirror(seller, found)
    webhook_events.seller_changed(seller)


def onboarding_refused(seller_id: str, code: str | None, message: str) -> None:
    seller = db.session.get(SellerAccount, seller_id, with_for_update=True)
    if seller is not None and seller.psp_account_id is None:
        seller.disabled_reason = f"refused: {code or message}"[:100]
        seller.updated_at = utcnow()


def bank_account_added(seller_id: str, version: int, found: PspBankAccount) -> None:
    """A replacement bank account is registered (caller commits); a newer replacement wins."""
    seller = db.session.get(SellerAccount, seller_id, with_for_update=True)
    if seller is None or seller.bank_account_version != version:
        return
    seller.bank_account_psp_id = found.id
    seller.bank_account_status = BankAccountStatus.ACTIVE.value
    seller.updated_at = utcnow()
    webhook_events.seller_changed(seller)


def bank_account_failed(seller_id: str, bank_account_psp_id: str | None) -> None:
    """A payout to the seller's bank account failed: payouts pause until the bank account is replaced. A failure
    of a bank account the seller has replaced since leaves the new one alone."""
    seller = db.session.get(SellerAccount, seller_id, with_for_update=True)
    if seller is not None and bank_account_psp_id in (None, seller.bank_account_psp_id) \
            and seller.bank_account_status != BankAccountStatus.PENDING:
        seller.bank_account_status = BankAccountStatus.ERRORED.value
        seller.updated_at = utcnow()
        webhook_events.seller_changed(seller)


def _visible(seller: SellerAccount) -> tuple:
    """What the API shows of a seller's state at the PSP: a change of it is a `seller_account.updated` event."""
    return (seller.account_state, seller.payouts_enabled, seller.requirements_due, seller.bank_account_status)


def apply_connected_account(found: ConnectedAccount, *, source: str) -> str:
    """`account.updated`: mirror the connected account's state (caller commits)."""
    seller = db.session.scalar(select(SellerAccount).where(SellerAccount.psp_account_id == found.id)
                               .with_for_update())
    if seller is None:
        return "unknown_account"
    before = _visible(seller)
    _mirror(seller, found)
    if _visible(seller) != before:
        webhook_events.seller_changed(seller)
    return f"{before[0]}->{seller.account_state}"


def apply_bank_account(found: PspBankAccount, account_id: str | None, *, source: str) -> str:
    """A bank account changed at the PSP: an errored current bank account pauses payouts (caller commits)."""
    seller = db.session.scalar(select(SellerAccount).where(SellerAccount.psp_account_id == account_id)
                               .with_for_update()) if account_id else None
    if seller is None:
        return "unknown_account"
    if found.id != seller.bank_account_psp_id:
        return "not_current_bank_account"
    if found.state is BankAccountState.ERRORED:
        seller.bank_account_status = BankAccountStatus.ERRORED.value
        seller.updated_at = utcnow()
        webhook_events.seller_changed(seller)
        return "bank_account_errored"
    return "no_change"
