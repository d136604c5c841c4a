"""A merchant's team: members with roles (webapp.domain.team), added, changed and removed by owners.

A new member gets a one-time password, shown once to the owner who added them (through webapp.services.reveal),
to pass on; the member changes it after signing in. A team always keeps at least one owner.
"""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import select

from webapp.domain.errors import Conflict, NotFound, ValidationError
from webapp.domain.team import MemberRole, leaves_an_owner
from webapp.extensions import db
from webapp.models import Merchant, User
from webapp.services.accounts import normalize_email
from webapp.services.passwords import hash_password


def role_of(user: User) -> MemberRole:
    """A merchant user's role; users from before roles existed are owners."""
    return MemberRole(user.merchant_role or MemberRole.OWNER.value)


def members(merchant: Merchant) -> list[User]:
    return list(db.session.scalars(select(User).where(User.merchant_id == merchant.id, User.role == "merchant")
                                   .order_by(User.created_at, User.email)))


def _role(raw: str) -> MemberRole:
    try:
        return MemberRole(raw)
    except ValueError:
        raise ValidationError(f"Unknown role {raw!r}.", param="role") from None


def add(merchant: Merchant, email: str, role: str) -> tuple[User, str]:
    """A new member and their one-time password (never stored: only its hash is)."""
    email = normalize_email(email)
    chosen = _role(role)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"{email} already has an account.", param="email")
    password = secrets.token_urlsafe(max(12, current_app.config["MIN_PASSWORD_LENGTH"]))
    user = User(email=email, password_hash=hash_password(password), role="merchant", merchant=merchant,
                merchant_role=chosen.value)
    db.session.add(user)
    db.session.commit()
    return user, password


def _member(merchant: Merchant, user_id: str) -> User:
    user = db.session.scalar(select(User).where(User.id == user_id, User.merchant_id == merchant.id,
                                                User.role == "merchant").with_for_update())
    if user is None:
        raise NotFound("No such team member.", param="member")
    return user


def _check_owner_remains(merchant: Merchant, changed: User, new_role: MemberRole | None) -> None:
    roles = [role_of(m) if m.id != changed.id else new_role for m in members(merchant)]
    if not leaves_an_owner([r for r in roles if r is not None]):
        raise ValidationError("The team needs at least one owner: make someone else an owner first.", param="role")


def change_role(merchant: Merchant, user_id: str, role: str) -> User:
    user = _member(merchant, user_id)
    chosen = _role(role)
    _check_owner_remains(merchant, user, chosen)
    user.merchant_role = chosen.value
    db.session.commit()
    return user


def remove(merchant: Merchant, user_id: str, by: User) -> str:
    """Remove a member (not oneself); returns their email."""
    user = _member(merchant, user_id)
    if user.id == by.id:
        raise ValidationError("You cannot remove yourself; ask another owner.", param="member")
    _check_owner_remains(merchant, user, None)
    email = user.email
    db.session.delete(user)
    db.session.commit()
    return email
