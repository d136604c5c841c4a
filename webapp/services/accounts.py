"""Merchants, users and seller accounts: creation and sign-in."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select

from webapp.dbtypes import utcnow
from webapp.domain.errors import Conflict, NotFound, ValidationError
from webapp.extensions import db
from webapp.models import Merchant, User
from webapp.services import audit
from webapp.services.passwords import check_strength, hash_password, verify_password


def normalize_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(f"Invalid email address: {exc}", param="email")


def _new_user(email: str, password: str, role: str, merchant: Merchant | None) -> User:
    email = normalize_email(email)
    check_strength(password, current_app.config["MIN_PASSWORD_LENGTH"])
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"A user with email {email} already exists.", param="email")
    return User(email=email, password_hash=hash_password(password), role=role, merchant=merchant)


def create_admin(email: str, password: str) -> User:
    user = _new_user(email, password, "admin", None)
    db.session.add(user)
    db.session.commit()
    return user


def create_merchant(name: str, email: str, password: str, *, actor: audit.Actor | None = None) -> Merchant:
    """A merchant and its first user, who signs in to the merchant portal (audited)."""
    name = name.strip()
    if not name:
        raise ValidationError("Merchant name is required.", param="name")
    if db.session.scalar(select(Merchant.id).where(func.lower(Merchant.name) == name.lower())):
        raise Conflict(f"A merchant named {name!r} already exists.", param="name")
    merchant = Merchant(name=name)
    user = _new_user(email, password, "merchant", merchant)
    db.session.add_all([merchant, user])
    db.session.flush()
    audit.note("merchant.create", "merchant", merchant.id, {"name": name, "user": user.email}, actor=actor)
    db.session.commit()
    return merchant


def find_merchant(ref: str) -> Merchant:
    """A merchant by id or by exact name."""
    merchant = db.session.get(Merchant, ref) or db.session.scalar(select(Merchant).where(Merchant.name == ref))
    if merchant is None:
        raise NotFound(f"No merchant {ref!r}.", param="merchant")
    return merchant


def may_sign_in(user: User) -> bool:
    """False for the users of a merchant an admin disabled (their sessions end too: see the user loader)."""
    return user.merchant is None or user.merchant.disabled_at is None


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; the same work is done whether the email exists or not."""
    try:
        email = normalize_email(email)
    except ValidationError:
        email = ""
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    if not verify_password(user.password_hash if user else None, password):
        return None
    assert user is not None
    if not may_sign_in(user):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user
