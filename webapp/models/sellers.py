"""Seller accounts: the payees of payment orders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.dbtypes import UTCDateTime, new_id, utcnow
from webapp.extensions import Model


class SellerAccount(Model):
    """A payee owned by one merchant, with the bank account it is paid out to.

    Status: `active` (can receive payments) or `disabled` (new payments to it are refused).
    """

    __tablename__ = "seller_accounts"
    __table_args__ = (
        UniqueConstraint("merchant_id", "iban", name="uq_seller_accounts_merchant_iban"),
        CheckConstraint("status IN ('active', 'disabled')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sel"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    iban: Mapped[str] = mapped_column(String(34))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    merchant = relationship("Merchant", back_populates="seller_accounts")

    @property
    def masked_iban(self) -> str:
        return f"{self.iban[:4]} •••• {self.iban[-4:]}"
