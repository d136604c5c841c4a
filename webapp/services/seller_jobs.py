"""Sellers' PSP work: creating their connected accounts and registering replacement bank accounts.

Each call carries an idempotency key from our row (`seller-account-<id>`, `seller-bank-<id>-<version>`), so a
retried or duplicated job gets the same account or bank account back instead of a second one.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.extensions import db
from webapp.models import SellerAccount
from webapp.psp import (
    BankAccountDetails,
    ConnectedAccount,
    NewBankAccount,
    NewConnectedAccount,
    PspBankAccount,
    PspError,
)
from webapp.services import sellers
from webapp.services.outbox import Claimed
from webapp.services.psp_work import PspWork
from webapp.services.topics import Queue


def _bank(seller: SellerAccount) -> BankAccountDetails:
    return BankAccountDetails(iban=seller.iban, holder_name=seller.display_name, country=seller.iban[:2],
                              currency=seller.currency)


def _onboarding_plans(messages: list[Claimed]) -> list[NewConnectedAccount | None]:
    plans: list[NewConnectedAccount | None] = []
    for message in messages:
        seller = db.session.get(SellerAccount, message.payload["seller"])
        if seller is None or seller.psp_account_id is not None:
            plans.append(None)
            continue
        plans.append(NewConnectedAccount(
            idempotency_key=f"seller-account-{seller.id}", display_name=seller.display_name, email=seller.email,
            country=seller.country or seller.iban[:2], bank_account=_bank(seller),
            metadata={"seller_account_id": seller.id, "merchant_id": seller.merchant_id}))
    return plans


def _onboarded(message: Claimed, plan: NewConnectedAccount, found: ConnectedAccount) -> None:
    sellers.onboarded(message.payload["seller"], found)


def _onboarding_refused(message: Claimed, plan: NewConnectedAccount, error: PspError) -> None:
    sellers.onboarding_refused(message.payload["seller"], error.code, error.message)


ONBOARD = PspWork[NewConnectedAccount, ConnectedAccount](
    name=sellers.ONBOARD_TOPIC, queue=Queue.DEFAULT, plan=_onboarding_plans,
    call=lambda psp, request: psp.create_connected_account(request), apply=_onboarded,
    refused=_onboarding_refused, describe=lambda m: f"onboard seller {m.payload['seller']}")


@dataclass(frozen=True)
class _BankPlan:
    version: int
    request: NewBankAccount


def _bank_plans(messages: list[Claimed]) -> list[_BankPlan | None]:
    plans: list[_BankPlan | None] = []
    for message in messages:
        seller = db.session.get(SellerAccount, message.payload["seller"])
        version = message.payload["version"]
        if seller is None or seller.psp_account_id is None or seller.bank_account_version != version:
            plans.append(None)  # superseded by a newer IBAN, or the account is not created yet
            continue
        plans.append(_BankPlan(version, NewBankAccount(f"seller-bank-{seller.id}-{version}", seller.psp_account_id,
                                                       _bank(seller))))
    return plans


def _bank_added(message: Claimed, plan: _BankPlan, found: PspBankAccount) -> None:
    sellers.bank_account_added(message.payload["seller"], plan.version, found)


REPLACE_BANK = PspWork[_BankPlan, PspBankAccount](
    name=sellers.BANK_TOPIC, queue=Queue.DEFAULT, plan=_bank_plans,
    call=lambda psp, plan: psp.add_bank_account(plan.request), apply=_bank_added,
    describe=lambda m: f"bank account of seller {m.payload['seller']}")

TOPICS = (ONBOARD, REPLACE_BANK)
