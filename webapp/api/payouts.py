"""`/v1/payouts`: a merchant's payouts to its sellers (listed with filters, read with their statement), and
paying a seller's available balance out now.

Registered on the API blueprint of webapp/api/payments.py (auth, rate limits, body limit, Stripe-shaped errors).
A refused payout is a 400 whose `code` says why: a paused reason (`bank_account_errored`, `onboarding`,
`requirements_due`, `negative_balance`, `below_minimum`, `account_disabled`) or `nothing_to_pay_out`.
"""

from __future__ import annotations

from flask import jsonify

from webapp.api import bp, params
from webapp.api import payout_presenters as present
from webapp.api.auth import api_key_required
from webapp.domain.errors import NotFound, ValidationError
from webapp.domain.payouts import PayoutStatus
from webapp.models import Payout
from webapp.services import payout_reads, payouts, sellers
from webapp.services.payout_reads import PayoutFilter

LIST_PARAMS = {"limit", "starting_after", "seller_account", "status", "arrival_date[gte]", "arrival_date[lte]"}
CREATE_FIELDS = {"seller_account"}


def _payout(payout_id: str, merchant_id: str) -> Payout:
    found = payout_reads.get_payout(payout_id, merchant_id)
    if found is None:
        raise NotFound(f"No such payout: {payout_id!r}.", param="id")
    return found


def _filter(args: dict[str, str], merchant_id: str) -> PayoutFilter:
    seller_id = args.get("seller_account")  # an empty one is refused, as the OpenAPI description says
    if seller_id is not None:
        try:
            sellers.get(params.merchant(), params.object_id(seller_id, "seller account", param="seller_account"))
        except NotFound as missing:  # a filter naming no seller of ours is a bad request, not a missing page
            raise ValidationError(missing.message, param="seller_account", code="resource_missing")
    status = None
    if args.get("status") is not None:
        try:
            status = PayoutStatus(args["status"])
        except ValueError:
            raise ValidationError("status must be one of " + ", ".join(s.value for s in PayoutStatus) + ".",
                                  param="status")
    return PayoutFilter(merchant_id=merchant_id, seller_account_id=seller_id, status=status,
                        arrival_from=params.date_of(args, "arrival_date[gte]"),
                        arrival_to=params.date_of(args, "arrival_date[lte]"))


@bp.get("/payouts")
@api_key_required
def list_payouts():
    args = params.query(LIST_PARAMS)
    merchant_id = params.merchant().id
    where = _filter(args, merchant_id)
    limit = params.limit_of(args)
    cursor = params.cursor_of(args, "payout")
    if cursor is not None and payout_reads.get_payout(cursor, merchant_id) is None:
        raise ValidationError(f"No such payout: {cursor!r}.", param="starting_after", code="resource_missing")
    page = payout_reads.list_payouts(where, limit=limit, starting_after=cursor)
    return params.listing("/v1/payouts", page.has_more, [present.payout_summary(p) for p in page.payouts])


@bp.get("/payouts/<payout_id>")
@api_key_required
def get_payout(payout_id: str):
    merchant_id = params.merchant().id
    return jsonify(present.payout(_payout(params.object_id(payout_id, "payout", param="id"), merchant_id)))


def _seller_of(document: object) -> str:
    if not isinstance(document, dict):
        raise ValidationError("The request body must be a JSON object.")
    unknown = sorted(set(document) - CREATE_FIELDS)
    if unknown:
        raise ValidationError(f"Received unknown parameter: {unknown[0]}.", param=unknown[0], code="parameter_unknown")
    raw = document.get("seller_account")
    if raw is None:
        raise ValidationError("seller_account is required.", param="seller_account", code="parameter_missing")
    if not isinstance(raw, str):
        raise ValidationError("seller_account must be a seller account id.", param="seller_account")
    return params.object_id(raw, "seller account", param="seller_account")


@bp.post("/payouts")
@api_key_required
def create_payout():
    document = params.json_body()
    seller_id = _seller_of(document)
    merchant_id = params.merchant().id

    def pay() -> tuple[int, dict]:
        made = payouts.pay_now(merchant_id, seller_id, source="api", commit=False)
        return 201, present.payout(_payout(made.id, merchant_id))

    return params.idempotent("POST /v1/payouts", document, pay)
