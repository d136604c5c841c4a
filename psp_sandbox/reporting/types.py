"""The report types of Stripe's Reporting API that the sandbox produces: their ids, columns (Stripe's names,
in Stripe's order), default columns and run parameters.

Columns and their order come from Stripe's report type pages (docs.stripe.com/reports/report-types/balance,
…/payout-reconciliation, …/connect). Which columns are on by default was lost in the copies available
offline; the defaults below are the short sets those pages mark as default, as recalled. Ask for
`parameters[columns]` to get exactly the columns you need, in your order.
"""

from __future__ import annotations

from dataclasses import dataclass

_ADDRESS = ("line1", "line2", "city", "state", "postal_code", "country")

# `balance_change_from_activity.itemized.3`: one row per balance transaction.
ACTIVITY_COLUMNS: tuple[str, ...] = (
    "balance_transaction_id", "created_utc", "created", "available_on_utc", "available_on", "currency", "gross",
    "fee", "net", "reporting_category", "source_id", "description", "customer_facing_amount",
    "customer_facing_currency", "regulatory_tag", "automatic_payout_id", "automatic_payout_effective_at_utc",
    "automatic_payout_effective_at", "customer_id", "customer_email", "customer_name", "customer_description",
    *(f"{prefix}_{part}" for prefix in ("customer_shipping_address", "customer_address", "shipping_address",
                                        "card_address") for part in _ADDRESS),
    "charge_id", "payment_intent_id", "charge_created_utc", "charge_created", "invoice_id", "invoice_number",
    "subscription_id", "payment_method_type", "is_link", "card_brand", "card_funding", "card_country",
    "statement_descriptor", "dispute_reason", "connected_account_id", "connected_account_name",
    "connected_account_country", "connected_account_direct_charge_id",
)
ACTIVITY_DEFAULTS = ("balance_transaction_id", "created", "available_on", "currency", "gross", "fee", "net",
                     "reporting_category", "description")

# `payout_reconciliation.itemized.5`: the balance transactions each automatic payout settles.
PAYOUT_COLUMNS: tuple[str, ...] = (
    "automatic_payout_id", "automatic_payout_effective_at_utc", "automatic_payout_effective_at",
    *(c for c in ACTIVITY_COLUMNS if not c.startswith("automatic_payout")),
    "destination_payment_id", "trace_id", "trace_id_status",
)
PAYOUT_DEFAULTS = ("automatic_payout_id", "automatic_payout_effective_at", *ACTIVITY_DEFAULTS)

# `connected_account_balance_change_from_activity.itemized.3`: the connected accounts' balance transactions.
CONNECTED_COLUMNS: tuple[str, ...] = (
    "connected_account", *(c for c in ACTIVITY_COLUMNS if not c.startswith("connected_account")),
    "connected_account_name", "connected_account_country", "connected_account_direct_charge_id",
)
CONNECTED_DEFAULTS = ("connected_account", *ACTIVITY_DEFAULTS)

SUMMARY_COLUMNS = ("category", "description", "net_amount", "currency")

# Metadata columns are asked for by name: `payment_metadata[order_id]`.
METADATA_PREFIXES = ("payment_metadata", "refund_metadata", "transfer_metadata")

_ITEMIZED_PARAMETERS = ("interval_start", "interval_end", "timezone", "currency", "reporting_category", "columns")


@dataclass(frozen=True)
class ReportType:
    """One report type. `rows` says which balance transactions it lists (`activity`, `payout` — settled by an
    automatic payout —, `connected`, or `summary` for `balance.summary.1`)."""

    id: str
    name: str
    rows: str
    columns: tuple[str, ...]
    default_columns: tuple[str, ...]
    parameters: tuple[str, ...]
    platform_only: bool = False

    def object(self, data_start: int, data_end: int) -> dict:
        return {
            "id": self.id, "object": "reporting.report_type", "data_available_end": data_end,
            "data_available_start": data_start, "default_columns": list(self.default_columns), "livemode": False,
            "name": self.name, "updated": data_end, "version": int(self.id.rsplit(".", 1)[1]),
        }


REPORT_TYPES: dict[str, ReportType] = {t.id: t for t in (
    ReportType("balance.summary.1", "Balance summary", "summary", SUMMARY_COLUMNS, SUMMARY_COLUMNS,
               ("interval_start", "interval_end", "timezone", "currency", "columns")),
    ReportType("balance_change_from_activity.itemized.3", "Balance change from activity (itemized)", "activity",
               ACTIVITY_COLUMNS, ACTIVITY_DEFAULTS, _ITEMIZED_PARAMETERS),
    ReportType("payout_reconciliation.itemized.5", "Payout reconciliation (itemized)", "payout", PAYOUT_COLUMNS,
               PAYOUT_DEFAULTS, (*_ITEMIZED_PARAMETERS, "payout")),
    ReportType("connected_account_balance_change_from_activity.itemized.3",
               "Connected accounts' balance change from activity (itemized)", "connected", CONNECTED_COLUMNS,
               CONNECTED_DEFAULTS, (*_ITEMIZED_PARAMETERS, "connected_account"), platform_only=True),
)}
