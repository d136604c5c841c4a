"""Seller accounts: the payees of payment orders, each with its account at the PSP and its payout schedule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.dbtypes import UTCDateTime, new_id, utcnow
from webapp.extensions import Model


class SellerAccount(Model):
    """A payee owned by one merchant, with the bank account it is paid out to.

    `status`: `active` (can receive payments) or `disabled` (new payments to it are refused), set by the merchant.
    `account_state` mirrors its connected account at the PSP (webapp.domain.payouts.AccountState):
    `onboarding → active | restricted | disabled`; `bank_account_status` is `pending → active`, or `errored`
    after a payout to it failed (payouts pause until it is replaced).
    """

    __tablename__ = "seller_accounts"
    __table_args__ = (
        UniqueConstraint("merchant_id", "iban", name="uq_seller_accounts_merchant_iban"),
        CheckConstraint("status IN ('active', 'disabled')", name="status_known"),
        CheckConstraint("account_state IN ('onboarding', 'active', 'restricted', 'disabled')",
                        name="account_state_known"),
        CheckConstraint("bank_account_status IN ('pending', 'active', 'errored')", name="bank_account_status_known"),
        CheckConstraint("payout_interval IN ('daily', 'weekly', 'monthly', 'manual')", name="payout_interval_known"),
        CheckConstraint("payout_delay_days >= 0", name="payout_delay_not_negative"),
        CheckConstraint("minimum_payout_minor >= 0", name="minimum_payout_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sel"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    country: Mapped[str | None] = mapped_column(String(2))
    iban: Mapped[str] = mapped_column(String(34))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # The connected account at the PSP.
    psp_account_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    account_state: Mapped[str] = mapped_column(String(20), default="onboarding")
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    requirements_due: Mapped[str] = mapped_column(Text, default="")  # comma-separated requirement names
    disabled_reason: Mapped[str | None] = mapped_column(String(100))
    bank_account_status: Mapped[str] = mapped_column(String(20), default="pending")
    bank_account_psp_id: Mapped[str | None] = mapped_column(String(255))
    bank_account_version: Mapped[int] = mapped_column(Integer, default=1)  # +1 per replacement

    # The payout schedule (webapp.domain.payouts.Schedule) and the minimum payout, in the seller's currency.
    payout_interval: Mapped[str] = mapped_column(String(10), default="daily")
    payout_weekly_anchor: Mapped[str | None] = mapped_column(String(10))
    payout_monthly_anchor: Mapped[int | None] = mapped_column(SmallInteger)
    payout_delay_days: Mapped[int] = mapped_column(Integer, default=0)
    minimum_payout_minor: Mapped[int] = mapped_column(BigInteger, default=0)

    merchant = relationship("Merchant", back_populates="seller_accounts")

    @property
    def masked_iban(self) -> str:
        return f"{self.iban[:4]} •••• {self.iban[-4:]}"

    @property
    def bank_last4(self) -> str:
        return self.iban[-4:]
