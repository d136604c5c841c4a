"""An admin's changes to a merchant, each audited: rename, fees (webapp.services.funds.set_fee_schedule), disable
and enable. A disabled merchant's API keys are refused (at once in this process, within the key cache's few seconds
elsewhere) and its users can neither sign in nor use a session they already have."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp.dbtypes import utcnow
from webapp.domain.errors import Conflict, NotFound, ValidationError
from webapp.extensions import db
from webapp.models import Merchant, User
from webapp.services import api_keys, audit


def get(merchant_id: str) -> Merchant:
    found = db.session.get(Merchant, merchant_id)
    if found is None:
        raise NotFound(f"No merchant {merchant_id!r}.", param="merchant")
    return found


def rename(merchant_id: str, name: str, *, actor: audit.Actor | None = None) -> Merchant:
    merchant = get(merchant_id)
    name = (name or "").strip()
    if not name:
        raise ValidationError("Merchant name is required.", param="name")
    if len(name) > 200:
        raise ValidationError("Merchant names are at most 200 characters.", param="name")
    if name == merchant.name:
        return merchant
    if db.session.scalar(select(Merchant.id).where(func.lower(Merchant.name) == name.lower(),
                                                   Merchant.id != merchant.id)):
        raise Conflict(f"A merchant named {name!r} already exists.", param="name")
    audit.note("merchant.edit", "merchant", merchant.id, {"before": {"name": merchant.name},
               "after": {"name": name}}, actor=actor)
    merchant.name = name
    db.session.commit()
    return merchant


def disable(merchant_id: str, reason: str, *, actor: audit.Actor | None = None) -> Merchant:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why the merchant is disabled.", param="reason")
    merchant = get(merchant_id)
    if merchant.disabled_at is not None:
        raise Conflict(f"{merchant.name} is disabled already.")
    merchant.disabled_at = utcnow()
    audit.note("merchant.disable", "merchant", merchant.id, {"reason": reason[:500]}, actor=actor)
    db.session.commit()
    api_keys.forget_merchant(merchant.id)
    return merchant


def enable(merchant_id: str, *, actor: audit.Actor | None = None) -> Merchant:
    merchant = get(merchant_id)
    if merchant.disabled_at is None:
        raise Conflict(f"{merchant.name} is not disabled.")
    audit.note("merchant.enable", "merchant", merchant.id, {"disabled_at": merchant.disabled_at}, actor=actor)
    merchant.disabled_at = None
    db.session.commit()
    return merchant


def users(merchant_id: str) -> list[User]:
    return list(db.session.scalars(select(User).where(User.merchant_id == merchant_id).order_by(User.created_at)))
