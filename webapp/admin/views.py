"""Admin: merchants, one merchant (its fee, users, seller accounts and API keys), and creating, renaming,
re-pricing, disabling and enabling one (each audited by its service)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import func, select

from webapp.admin import bp
from webapp.admin.forms import ActionForm, DisableForm, FeesForm, NewMerchantForm, RenameForm
from webapp.auth.access import admin_required
from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.models import ApiKey, Merchant, SellerAccount, User
from webapp.services import accounts, audit, funds, merchant_admin


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


@bp.route("/merchants/new", methods=["GET", "POST"])
@admin_required
def merchant_new():
    form = NewMerchantForm()
    if form.validate_on_submit():
        try:
            merchant = accounts.create_merchant(form.name.data, form.email.data, form.password.data)
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.param or "name", form.name).errors.append(exc.message)
        else:
            flash(f"Merchant {merchant.name} created; {form.email.data} can sign in to the portal.", "success")
            return redirect(url_for("admin.merchant", merchant_id=merchant.id))
    return render_template("admin/merchant_new.html", form=form), 400 if form.errors else 200


def _merchant_page(record: Merchant, *, rename: RenameForm | None = None, fees: FeesForm | None = None,
                   disable: DisableForm | None = None, status: int = 200):
    keys = db.session.scalars(select(ApiKey).where(ApiKey.merchant_id == record.id)
                              .order_by(ApiKey.created_at.desc())).all()
    schedule = funds.fee_schedule(record)
    fees = fees or FeesForm(data={"bps": schedule.bps, "fixed_minor": schedule.fixed_minor})
    return render_template("admin/merchant.html", merchant=record, keys=keys, users=merchant_admin.users(record.id),
                           schedule=schedule, rename=rename or RenameForm(data={"name": record.name}), fees=fees,
                           disable=disable or DisableForm(), action=ActionForm(),
                           history=audit.for_target("merchant", record.id, limit=20)), status


def _found(merchant_id: str) -> Merchant:
    record = db.session.get(Merchant, merchant_id)
    if record is None:
        abort(404)
    return record


@bp.get("/merchants/<merchant_id>")
@admin_required
def merchant(merchant_id: str):
    return _merchant_page(_found(merchant_id))


@bp.post("/merchants/<merchant_id>/name")
@admin_required
def merchant_rename(merchant_id: str):
    record, form = _found(merchant_id), RenameForm()
    if form.validate_on_submit():
        try:
            merchant_admin.rename(record.id, form.name.data)
        except DomainError as exc:
            db.session.rollback()
            form.name.errors = [exc.message]
        else:
            flash(f"Renamed to {record.name}.", "success")
            return redirect(url_for("admin.merchant", merchant_id=record.id))
    return _merchant_page(record, rename=form, status=400)


@bp.post("/merchants/<merchant_id>/fees")
@admin_required
def merchant_fees(merchant_id: str):
    record, form = _found(merchant_id), FeesForm()
    if form.validate_on_submit():
        try:
            if form.use_default.data:
                schedule = funds.set_fee_schedule(record, None, None)
            else:
                current = funds.fee_schedule(record)
                schedule = funds.set_fee_schedule(
                    record, current.bps if form.bps.data is None else form.bps.data,
                    current.fixed_minor if form.fixed_minor.data is None else form.fixed_minor.data)
        except DomainError as exc:
            db.session.rollback()
            form.bps.errors = [exc.message]
        else:
            flash(f"{record.name} now pays {schedule.describe()} per payment order.", "success")
            return redirect(url_for("admin.merchant", merchant_id=record.id))
    return _merchant_page(record, fees=form, status=400)


@bp.post("/merchants/<merchant_id>/disable")
@admin_required
def merchant_disable(merchant_id: str):
    record, form = _found(merchant_id), DisableForm()
    if form.validate_on_submit():
        try:
            merchant_admin.disable(record.id, form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(f"{record.name} is disabled: its API keys and portal users no longer work.", "success")
        return redirect(url_for("admin.merchant", merchant_id=record.id))
    return _merchant_page(record, disable=form, status=400)


@bp.post("/merchants/<merchant_id>/enable")
@admin_required
def merchant_enable(merchant_id: str):
    record = _found(merchant_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        merchant_admin.enable(record.id)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(f"{record.name} is enabled again.", "success")
    return redirect(url_for("admin.merchant", merchant_id=record.id))
