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
    return User(email=email, password_hash=hash_password(password), role=role, merchant=merchant,
                merchant_role="owner" if role == "merchant" else None)  # a merchant's first user owns it


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
    return user


def _as(user: User) -> audit.Actor:
    """The user as the actor of their own sign-in steps, from the request's address."""
    return audit.Actor(user.email, audit.current_actor().ip)


def record_sign_in(user: User) -> None:
    """The user passed every step of signing in (audited)."""
    user.last_login_at = utcnow()
    audit.note("auth.sign_in", "user", user.id, actor=_as(user))
    db.session.commit()


def record_failed_sign_in(email: str, reason: str) -> None:
    """A refused sign-in (audited with the address asked for, which may name no account)."""
    audit.note("auth.sign_in_failed", "user", email[:255], {"reason": reason},
               actor=audit.Actor(email or "anonymous", audit.current_actor().ip))
    db.session.commit()


def sign_out(user: User) -> None:
    """Sign the user out everywhere (audited)."""
    audit.note("auth.sign_out", "user", user.id, actor=_as(user))
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Every session of this user stops working at its next request (their cookies name an older version)."""
    user.session_version = (user.session_version or 0) + 1
    db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one; ends the user's other sessions."""
    if not verify_password(user.password_hash, current):
        raise ValidationError("The current password is not correct.", param="current_password")
    check_strength(new, current_app.config["MIN_PASSWORD_LENGTH"])
    if verify_password(user.password_hash, new):
        raise ValidationError("The new password must differ from the current one.", param="new_password")
    user.password_hash = hash_password(new)
    audit.note("auth.password_change", "user", user.id, actor=_as(user))
    end_sessions(user)


def set_disabled(user: User, disabled: bool, by: User) -> None:
    """Disable (or enable again) a user; a disabled user cannot sign in and their sessions end at once."""
    if user.id == by.id:
        raise ValidationError("You cannot disable your own account.", param="user")
    if disabled and user.disabled_at is None:
        user.disabled_at = utcnow()
        audit.note("user.disable", "user", user.id, {"email": user.email})
        end_sessions(user)
    elif not disabled and user.disabled_at is not None:
        user.disabled_at = None
        audit.note("user.enable", "user", user.id, {"email": user.email})
        db.session.commit()
