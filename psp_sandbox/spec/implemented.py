"""Which of Stripe's parameters the sandbox implements, per operation: the single list to update when a
route learns a parameter. Anything Stripe has that is not listed here is refused with a clear 400
(`strict.unsupported`), never silently ignored; anything Stripe does not have is `parameter_unknown`.

An entry is a parameter path with `[]` for "every element of an array": `line_items[][quantity]`.
An entry covers everything under it: `metadata` covers `metadata[any key]`, `expand` is added to every
operation that has it. Operations are written as in Stripe's OpenAPI description; placeholder names do
not matter (`/v1/transfers/{id}` matches the route `/v1/transfers/<transfer_id>`).
"""

from __future__ import annotations

# Cursor pagination, handled by `lists.page` for every list.
PAGE = ("limit", "starting_after", "ending_before")
CREATED = ("created",)

# What an account create or update takes (accounts.py): settings sections are merged field by field there.
_ACCOUNT = (
    "email", "default_currency", "business_type", "metadata", "capabilities", "external_account",
    *(f"business_profile[{name}]" for name in ("mcc", "name", "product_description", "support_email",
                                                "support_phone", "support_url", "url")),
    *(f"tos_acceptance[{name}]" for name in ("date", "ip", "service_agreement", "user_agent")),
    *(f"settings[{name}]" for name in ("branding", "card_payments", "payments")),
    "settings[payouts][debit_negative_balances]", "settings[payouts][statement_descriptor]",
    "settings[payouts][schedule]",
)

IMPLEMENTED: dict[str, tuple[str, ...]] = {
    # Checkout Sessions
    "POST /v1/checkout/sessions": (
        "mode", "success_url", "cancel_url", "client_reference_id", "customer_email", "expires_at", "locale",
        "metadata", "payment_method_types", "line_items[][quantity]", "line_items[][price_data][currency]",
        "line_items[][price_data][unit_amount]", "line_items[][price_data][product_data][name]",
        "payment_intent_data[transfer_group]", "payment_intent_data[metadata]",
        "payment_intent_data[description]", "branding_settings[display_name]",
    ),
    "GET /v1/checkout/sessions": (*PAGE, *CREATED, "payment_intent", "client_reference_id", "status"),
    "GET /v1/checkout/sessions/{session}": (),
    "POST /v1/checkout/sessions/{session}/expire": (),
    "GET /v1/checkout/sessions/{session}/line_items": PAGE,
    # Payments
    "GET /v1/payment_intents/{intent}": (),
    "GET /v1/charges/{charge}": (),
    "GET /v1/charges": (*PAGE, *CREATED, "payment_intent", "transfer_group"),
    "POST /v1/refunds": ("payment_intent", "charge", "amount", "reason", "metadata"),
    "GET /v1/refunds": (*PAGE, *CREATED, "charge", "payment_intent"),
    "GET /v1/refunds/{refund}": (),
    # Balance
    "GET /v1/balance": (),
    "GET /v1/balance_transactions": (*PAGE, *CREATED, "type", "currency", "source", "payout"),
    "GET /v1/balance_transactions/{id}": (),
    # Events and webhook endpoints
    "GET /v1/events": (*PAGE, *CREATED, "type", "types", "delivery_success"),
    "GET /v1/events/{id}": (),
    "POST /v1/webhook_endpoints": ("url", "enabled_events", "connect", "description", "metadata", "api_version"),
    "GET /v1/webhook_endpoints": PAGE,
    "GET /v1/webhook_endpoints/{webhook_endpoint}": (),
    # Connect: accounts, external accounts, transfers and reversals, payouts
    "POST /v1/accounts": (*_ACCOUNT, "type", "country"),
    "GET /v1/accounts": (*PAGE, *CREATED),
    "GET /v1/accounts/{account}": (),
    "POST /v1/accounts/{account}": _ACCOUNT,
    "DELETE /v1/accounts/{account}": (),
    "GET /v1/accounts/{account}/external_accounts": (*PAGE, "object"),
    "POST /v1/accounts/{account}/external_accounts": ("external_account", "default_for_currency", "metadata"),
    "GET /v1/accounts/{account}/external_accounts/{id}": (),
    "POST /v1/accounts/{account}/external_accounts/{id}": ("default_for_currency", "metadata",
                                                            "account_holder_name", "account_holder_type"),
    "DELETE /v1/accounts/{account}/external_accounts/{id}": (),
    "POST /v1/transfers": ("amount", "currency", "destination", "transfer_group", "source_transaction",
                           "description", "metadata"),
    "GET /v1/transfers": (*PAGE, *CREATED, "destination", "transfer_group"),
    "GET /v1/transfers/{transfer}": (),
    "POST /v1/transfers/{transfer}": ("metadata", "description"),
    "POST /v1/transfers/{id}/reversals": ("amount", "metadata", "description", "refund_application_fee"),
    "GET /v1/transfers/{id}/reversals": PAGE,
    "GET /v1/transfers/{transfer}/reversals/{id}": (),
    "POST /v1/transfers/{transfer}/reversals/{id}": ("metadata",),
    "POST /v1/payouts": ("amount", "currency", "destination", "description", "metadata", "statement_descriptor",
                         "method"),
    "GET /v1/payouts": (*PAGE, *CREATED, "status", "destination", "arrival_date"),
    "GET /v1/payouts/{payout}": (),
    "POST /v1/payouts/{payout}/cancel": (),
    # Reporting API and files
    "GET /v1/reporting/report_types": (),
    "GET /v1/reporting/report_types/{report_type}": (),
    "POST /v1/reporting/report_runs": (
        "report_type", "parameters[interval_start]", "parameters[interval_end]", "parameters[connected_account]",
        "parameters[payout]", "parameters[currency]", "parameters[reporting_category]", "parameters[columns]",
        "parameters[timezone]",
    ),
    "GET /v1/reporting/report_runs": (*PAGE, *CREATED),
    "GET /v1/reporting/report_runs/{report_run}": (),
    "GET /v1/files": (*PAGE, *CREATED, "purpose"),
    "GET /v1/files/{file}": (),
    "GET /v1/files/{file}/contents": (),
}

# Parameters the sandbox accepts beyond the 2023-08-16 description, with their kinds (see build.py), and
# operations that description lacks. Each is documented in docs/psp-sandbox.md.
_RANGE = {"kinds": ["integer", "object"], "keys": {op: {"kinds": ["integer"]} for op in ("gt", "gte", "lt", "lte")}}
_BANK_ACCOUNT = {"kinds": ["object", "string"], "keys": {name: {"kinds": ["string"]} for name in (
    "object", "account_number", "country", "currency", "account_holder_name", "account_holder_type",
    "routing_number")}}
EXTENSIONS: dict[str, dict[str, dict]] = {
    # Later API versions let a Checkout Session override the business name shown at the top of the page.
    "POST /v1/checkout/sessions": {"branding_settings": {"kinds": ["object"], "keys": {
        "display_name": {"kinds": ["string"]}}}},
    # Later API versions filter Checkout Sessions by `status` and `created`; `client_reference_id` is the
    # sandbox's own filter (tests use it to find their sessions).
    "GET /v1/checkout/sessions": {"status": {"kinds": ["string"]}, "created": _RANGE,
                                  "client_reference_id": {"kinds": ["string"]}},
    # Later API versions filter external accounts by `object` (bank_account or card).
    "GET /v1/accounts/{account}/external_accounts": {"object": {"kinds": ["string"]}},
    # Stripe takes a bank account as a token or as a hash; the description only declares the token (a string).
    "POST /v1/accounts": {"external_account": _BANK_ACCOUNT},
    "POST /v1/accounts/{account}": {"external_account": _BANK_ACCOUNT},
    "POST /v1/accounts/{account}/external_accounts": {"external_account": _BANK_ACCOUNT},
    # A file's contents, on the files host (`url` of a File); not an operation of the description.
    "GET /v1/files/{file}/contents": {},
}
