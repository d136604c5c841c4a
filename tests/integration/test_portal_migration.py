"""Migration 0007_portal on a database that already has payments and merchant users: existing buyers' emails get
their lookup hash (so old payments are found by email too), and existing merchant users become owners."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from config import load_config
from webapp import create_app
from webapp.extensions import db
from webapp.services import crypto, lookup


def test_existing_rows_get_email_hashes_and_owners(tmp_path):
    app = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        upgrade(revision="0006")
        db.session.execute(text("INSERT INTO merchants (id, name, created_at) VALUES ('mer_1', 'Old Shop', "
                                "'2026-01-01 00:00:00')"))
        db.session.execute(text("INSERT INTO users (id, email, password_hash, role, merchant_id, created_at) VALUES "
                                "('usr_1', 'owner@old.example.com', 'x', 'merchant', 'mer_1', '2026-01-01 00:00:00'), "
                                "('usr_2', 'admin@old.example.com', 'x', 'admin', NULL, '2026-01-01 00:00:00')"))
        for number, email in enumerate(("Old.Buyer@Example.com", "second@example.com")):
            db.session.execute(text(
                "INSERT INTO payment_events (id, merchant_id, checkout_id, request_hash, currency, amount_total, "
                "status, buyer_email_enc, attempt, created_at, updated_at) VALUES (:id, 'mer_1', :checkout, 'h', "
                "'USD', 100, 'SUCCESS', :email, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"),
                {"id": f"pay_{number}", "checkout": f"old-{number}", "email": crypto.encrypt(email)})
        db.session.commit()
        upgrade()
        hashes = dict(db.session.execute(text("SELECT id, buyer_email_hash FROM payment_events")).all())
        assert hashes == {"pay_0": lookup.email_hash("old.buyer@example.com"),
                          "pay_1": lookup.email_hash("second@example.com")}
        roles = dict(db.session.execute(text("SELECT email, merchant_role FROM users")).all())
        assert roles == {"owner@old.example.com": "owner", "admin@old.example.com": None}
        db.session.remove()
        db.engine.dispose()
