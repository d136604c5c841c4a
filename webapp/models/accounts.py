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
        CheckConstraint("merchant_role IS NULL OR merchant_role IN ('owner', 'developer', 'viewer')",
                        name="merchant_role_known"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("usr"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of the id in every session cookie: raising it ends all of this user's sessions (sign-out,
    # password change, disabling), since a cookie naming an older version no longer loads a user.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP second factor: the shared secret encrypted at rest (Fernet, DATA_ENCRYPTION_KEY), and the last
    # accepted time step, so one code cannot be used twice.
    totp_secret_enc: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # A merchant user's place in its team (webapp.domain.team.MemberRole); NULL for admins.
    merchant_role: Mapped[str | None] = mapped_column(String(20))

    merchant: Mapped[Merchant | None] = relationship(back_populates="users")
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses an inactive user; the user loader ends its sessions. Disabled by an admin, or a user
        of a merchant an admin disabled."""
        return self.disabled_at is None and (self.merchant is None or self.merchant.disabled_at is None)

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_secret_enc is not None

    def get_id(self) -> str:
        """The session's user reference: id and session version (see webapp.auth.sessions)."""
        return f"{self.id}.{self.session_version}"


class RecoveryCode(Model):
    """A single-use second-factor code, shown once at enrolment; only its SHA-256 is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("rc"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")
