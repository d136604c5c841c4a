"""`/v1/seller_accounts`: create, list, read and change a merchant's sellers, and read their balances.

Registered on the API blueprint of webapp/api/payments.py, so it shares its API-key auth, rate limits, body
limit and Stripe-shaped errors. Another merchant's seller answers 404, exactly like a missing one.
"""

from __future__ import annotations

from flask import jsonify

from webapp.api import bp, params
from webapp.api import payout_presenters as present
from webapp.api.auth import api_key_required
from webapp.api.lookups import seller_page
from webapp.domain.sellers import NewSeller, SellerChanges
from webapp.models import SellerAccount
from webapp.services import payout_reads, sellers


def _present(seller: SellerAccount) -> dict:
    return present.seller_account(seller, payout_reads.seller_balances(seller))


@bp.post("/seller_accounts")
@api_key_required
def create_seller_account():
    document = params.json_body()
    command = NewSeller.from_json(document)
    merchant = params.merchant()
    return params.idempotent("POST /v1/seller_accounts", document,
                             lambda: (201, _present(sellers.create(merchant, command, commit=False))))


@bp.get("/seller_accounts")
@api_key_required
def list_seller_accounts():
    args = params.query({"limit", "starting_after"})
    page = seller_page(params.merchant().id, limit=params.limit_of(args),
                       starting_after=params.cursor_of(args, "seller account"))
    available = payout_reads.available_in_own_currency([s.id for s in page.sellers])
    return params.listing("/v1/seller_accounts", page.has_more,
                          [present.seller_account(s, present.own_available(s, available.get(s.id, 0)))
                           for s in page.sellers])


def _seller(seller_id: str) -> SellerAccount:
    return sellers.get(params.merchant(), params.object_id(seller_id, "seller account", param="id"))


@bp.get("/seller_accounts/<seller_id>")
@api_key_required
def get_seller_account(seller_id: str):
    return jsonify(_present(_seller(seller_id)))


@bp.post("/seller_accounts/<seller_id>")
@api_key_required
def update_seller_account(seller_id: str):
    seller = _seller(seller_id)
    document = params.json_body()
    changes = SellerChanges.from_json(document, seller.currency)
    merchant, found = params.merchant(), seller.id
    return params.idempotent(f"POST /v1/seller_accounts/{found}", document,
                             lambda: (200, _present(sellers.update(merchant, found, changes, commit=False))))


@bp.get("/seller_accounts/<seller_id>/balance")
@api_key_required
def get_seller_balance(seller_id: str):
    seller = _seller(seller_id)
    return jsonify(present.seller_balance(seller, payout_reads.seller_balances(seller)))
