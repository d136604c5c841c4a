"""TOTP second factor (RFC 6238 via pyotp) and single-use recovery codes.

The shared secret is stored encrypted (webapp.services.crypto, DATA_ENCRYPTION_KEY); a recovery code is
stored as its SHA-256 only (each has 60 random bits, so a slow hash adds nothing) and works once. A TOTP
code is accepted for the current 30-second step or one step either side, and never twice: the last
accepted step is kept, so an observed code cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from flask import current_app
from sqlalchemy import select

from webapp.dbtypes import utcnow
from webapp.domain.errors import ValidationError
from webapp.extensions import db
from webapp.models import RecoveryCode, User
from webapp.services import audit, crypto
from webapp.services.accounts import end_sessions
from webapp.services.passwords import verify_password

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper
_STEP = 30


@dataclass(frozen=True)
class Enrolment:
    """A secret being set up: shown as a QR code and as text until the user confirms a code from it."""

    secret: str
    uri: str
    qr_svg: str


def new_secret() -> str:
    return pyotp.random_base32()


def enrolment(user: User, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["TOTP_ISSUER"])
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#0f172a", light="#ffffff", title="Set-up QR code")
    return Enrolment(secret, uri, svg)


def _normalize(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isascii() and ch.isalnum())


def _matching_step(secret: str, code: str, now: float) -> int | None:
    totp = pyotp.TOTP(secret)
    current = int(now) // _STEP
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * _STEP), code):
            return step
    return None


def enable(user: User, secret: str, code: str, *, now: float | None = None) -> list[str]:
    """Turn the second factor on once `code` proves the authenticator holds `secret`; returns the recovery
    codes (shown once). Ends the user's other sessions."""
    step = _matching_step(secret, _normalize(code), time.time() if now is None else now)
    if step is None:
        raise ValidationError("That code does not match. Check the time on your device and try again.",
                              param="code")
    user.totp_secret_enc = crypto.encrypt(secret)
    user.totp_last_step = step
    codes = _replace_recovery_codes(user)
    audit.note("auth.two_factor_on", "user", user.id, actor=audit.Actor(user.email, audit.current_actor().ip))
    end_sessions(user)  # commits
    return codes


def disable(user: User, password: str) -> None:
    """Turn the second factor off (the password confirms it is the user); ends the user's other sessions."""
    if not verify_password(user.password_hash, password):
        raise ValidationError("The password is not correct.", param="password")
    if current_app.config["ADMIN_TWO_FACTOR_REQUIRED"] and user.is_admin:
        raise ValidationError("Admins must keep two-factor sign-in on.", param="password")
    user.totp_secret_enc = None
    user.totp_last_step = None
    user.recovery_codes.clear()
    audit.note("auth.two_factor_off", "user", user.id, actor=audit.Actor(user.email, audit.current_actor().ip))
    end_sessions(user)


def _hash(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def _replace_recovery_codes(user: User) -> list[str]:
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12)) for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_codes.clear()
    user.recovery_codes.extend(RecoveryCode(code_hash=_hash(c)) for c in codes)
    return [f"{c[:4]}-{c[4:8]}-{c[8:]}" for c in codes]


def verify(user: User, code: str, *, now: float | None = None) -> bool:
    """Whether `code` (a TOTP code or an unused recovery code) completes this user's sign-in; a recovery code
    is used up, a TOTP step cannot be used again."""
    if user.totp_secret_enc is None:
        return False
    normalized = _normalize(code)
    if len(normalized) == 6 and normalized.isdigit():
        step = _matching_step(crypto.decrypt(user.totp_secret_enc), normalized, time.time() if now is None else now)
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            return False
        user.totp_last_step = step
        db.session.commit()
        return True
    recovery = db.session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(normalized), RecoveryCode.used_at.is_(None)))
    if recovery is None:
        return False
    recovery.used_at = utcnow()
    db.session.commit()
    return True


def recovery_codes_left(user: User) -> int:
    return sum(1 for c in user.recovery_codes if c.used_at is None)
