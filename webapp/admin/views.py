"""Admin: merchants, one merchant and its API keys."""

from __future__ import annotations

from flask import abort, render_template
from sqlalchemy import func, select

from webapp.admin import bp
from webapp.auth.access import admin_required
from webapp.extensions import db
from webapp.models import ApiKey, Merchant, SellerAccount, User


@bp.get("/merchants")
@admin_required
def merchants():
    seller_counts = (select(SellerAccount.merchant_id, func.count().label("n"))
                     .group_by(SellerAccount.merchant_id).subquery())
    user_counts = select(User.merchant_id, func.count().label("n")).group_by(User.merchant_id).subquery()
    rows = db.session.execute(
        select(Merchant, func.coalesce(seller_counts.c.n, 0), func.coalesce(user_counts.c.n, 0))
        .outerjoin(seller_counts, seller_counts.c.merchant_id == Merchant.id)
        .outerjoin(user_counts, user_counts.c.merchant_id == Merchant.id)
        .order_by(Merchant.created_at.desc())
    ).all()
    return render_template("admin/merchants.html", rows=rows)


@bp.get("/merchants/<merchant_id>")
@admin_required
def merchant(merchant_id: str):
    record = db.session.get(Merchant, merchant_id)
    if record is None:
        abort(404)
    keys = db.session.scalars(select(ApiKey).where(ApiKey.merchant_id == record.id)
                              .order_by(ApiKey.created_at.desc())).all()
    return render_template("admin/merchant.html", merchant=record, keys=keys)
