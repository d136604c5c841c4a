"""Merchants and the people who sign in."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.dbtypes import UTCDateTime, new_id, utcnow
from webapp.extensions import Model


class Merchant(Model):
    """A business that integrates the gateway and owns seller accounts."""

    __tablename__ = "merchants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("mer"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Platform fee per payment order; NULL means the platform's default (PLATFORM_FEE_BPS / _FIXED_MINOR).
    fee_bps: Mapped[int | None] = mapped_column(Integer)
    fee_fixed_minor: Mapped[int | None] = mapped_column(BigInteger)
    # Payout schedule and minimum (minor units) for its new seller accounts; NULL: daily, no minimum.
    default_payout_schedule: Mapped[str | None] = mapped_column(Text)  # JSON of domain.payouts.Schedule
    default_minimum_payout_minor: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by an admin: the merchant's API keys and portal users stop working until it is enabled again.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    users: Mapped[list[User]] = relationship(back_populates="merchant")
    seller_accounts = relationship("SellerAccount", back_populates="merchant", order_by="SellerAccount.created_at")


class User(UserMixin, Model):
    """A person who signs in: an `admin` of the platform, or a `merchant` user of one merchant."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'merchant')", name="role_known"),
        CheckConstraint(
            "(role = 'admin' AND merchant_id IS NULL) OR (role = 'merchant' AND merchant_id IS NOT NULL)",
            name="merchant_matches_role",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("usr"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    merchant: Mapped[Merchant | None] = relationship(back_populates="users")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
