"""`python -m psp_sandbox trigger <event-type>`: make a running sandbox emit an event by doing what causes
it through the API, as `stripe trigger` does. Steps that wait on time advance the sandbox clock."""

from __future__ import annotations

from collections.abc import Callable

import requests

KEY = "sk_test_psp_sandbox_cli"
PAYOUT_FAILS_IBAN = "DE62370400440532013001"
PAYOUT_PAYS_IBAN = "DE89370400440532013000"


class Api:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {KEY}"
        self.delays = self.http.get(f"{self.base}/_sandbox/health", timeout=10).json()["delays"]

    def post(self, path: str, data: dict, account: str | None = None) -> dict:
        headers = {"Stripe-Account": account} if account else {}
        response = self.http.post(f"{self.base}{path}", data=data, headers=headers, timeout=30)
        if response.status_code >= 400:
            raise RuntimeError(f"POST {path} failed: {response.status_code} {response.text}")
        return response.json()

    def advance(self, seconds: int) -> None:
        self.post_json("/_sandbox/clock/advance", {"seconds": seconds})

    def post_json(self, path: str, body: dict) -> dict:
        return self.http.post(f"{self.base}{path}", json=body, timeout=30).json()

    def session(self, email: str = "buyer@example.com") -> dict:
        return self.post("/v1/checkout/sessions", {
            "mode": "payment", "success_url": "http://127.0.0.1/success?session_id={CHECKOUT_SESSION_ID}",
            "customer_email": email, "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": "eur", "line_items[0][price_data][unit_amount]": "2000",
            "line_items[0][price_data][product_data][name]": "Triggered item",
        })

    def pay(self, session: dict, **body: str) -> dict:
        return self.post_json(f"/_sandbox/checkout/sessions/{session['id']}/pay", {"method": "card", **body})

    def paid_charge(self, card: str = "4242424242424242") -> str:
        paid = self.pay(self.session(), card_number=card)
        intent = self.http.get(f"{self.base}/v1/payment_intents/{paid['session']['payment_intent']}", timeout=10)
        return intent.json()["latest_charge"]


def _card(card: str, three_d_secure: str = "complete") -> Callable[[Api], None]:
    def run(api: Api) -> None:
        api.pay(api.session(), card_number=card, three_d_secure=three_d_secure)

    return run


def _bank_transfer(email: str) -> Callable[[Api], None]:
    def run(api: Api) -> None:
        api.pay(api.session(email), method="bank_transfer")
        api.advance(api.delays["bank_transfer_delay"])

    return run


def _expired(api: Api) -> None:
    api.post(f"/v1/checkout/sessions/{api.session()['id']}/expire", {})


def _refund(card: str, wait: bool) -> Callable[[Api], None]:
    def run(api: Api) -> None:
        api.post("/v1/refunds", {"charge": api.paid_charge(card)})
        if wait:
            api.advance(api.delays["refund_failure_delay"])

    return run


def _transfer(api: Api, iban: str = PAYOUT_PAYS_IBAN) -> str:
    account = api.post("/v1/accounts", {
        "type": "custom", "country": "DE", "email": "seller@example.com",
        "settings[payouts][schedule][interval]": "manual",
        "external_account[object]": "bank_account", "external_account[country]": "DE",
        "external_account[currency]": "eur", "external_account[account_number]": iban,
    })
    charge = api.paid_charge()
    api.post("/v1/transfers", {"amount": "1500", "currency": "eur", "destination": account["id"],
                               "source_transaction": charge})
    return account["id"]


def _transfer_created(api: Api) -> None:
    _transfer(api)


def _transfer_reversed(api: Api) -> None:
    _transfer(api)
    transfer = api.http.get(f"{api.base}/v1/transfers", params={"limit": "1"}, timeout=10).json()["data"][0]
    api.post(f"/v1/transfers/{transfer['id']}/reversals", {"amount": "500"})


def _account_updated(api: Api) -> None:
    account = _transfer(api)
    api.post(f"/v1/accounts/{account}", {"metadata[triggered]": "true"})


def _external_account_created(api: Api) -> None:
    account = _transfer(api)
    api.post(f"/v1/accounts/{account}/external_accounts", {
        "external_account[object]": "bank_account", "external_account[account_number]": PAYOUT_PAYS_IBAN,
        "default_for_currency": "true"})


def _payout_canceled(api: Api) -> None:
    account = _transfer(api)
    api.advance(api.delays["available_delay"])
    payout = api.post("/v1/payouts", {"amount": "1000", "currency": "eur"}, account=account)
    api.post(f"/v1/payouts/{payout['id']}/cancel", {}, account=account)


def _balance_available(api: Api) -> None:
    api.paid_charge()
    api.advance(api.delays["available_delay"])


def _payout(iban: str) -> Callable[[Api], None]:
    def run(api: Api) -> None:
        account = _transfer(api, iban)
        api.advance(api.delays["available_delay"])
        api.post("/v1/payouts", {"amount": "1000", "currency": "eur"}, account=account)
        api.advance(api.delays["payout_arrival_delay"])

    return run


_PAID = _card("4242424242424242")
_DECLINED = _card("4000000000000002")
RECIPES: dict[str, Callable[[Api], None]] = {
    "checkout.session.completed": _PAID, "payment_intent.created": _PAID, "payment_intent.succeeded": _PAID,
    "charge.succeeded": _PAID, "payment_intent.payment_failed": _DECLINED, "charge.failed": _DECLINED,
    "payment_intent.requires_action": _card("4000002500003155", three_d_secure="none"),
    "checkout.session.async_payment_succeeded": _bank_transfer("buyer@example.com"),
    "payment_intent.processing": _bank_transfer("buyer@example.com"),
    "charge.pending": _bank_transfer("buyer@example.com"),
    "checkout.session.async_payment_failed": _bank_transfer("buyer+fail@example.com"),
    "checkout.session.expired": _expired, "payment_intent.canceled": _expired,
    "charge.refunded": _refund("4242424242424242", wait=False), "refund.created": _refund("4242424242424242", False),
    "refund.updated": _refund("4000000000005126", wait=True), "refund.failed": _refund("4000000000005126", True),
    "transfer.created": _transfer_created, "balance.available": _balance_available,
    "payout.created": _payout(PAYOUT_PAYS_IBAN), "payout.updated": _payout(PAYOUT_PAYS_IBAN),
    "payout.paid": _payout(PAYOUT_PAYS_IBAN), "payout.failed": _payout(PAYOUT_FAILS_IBAN),
    "payout.canceled": _payout_canceled,
    "transfer.reversed": _transfer_reversed, "account.updated": _account_updated,
    "account.external_account.created": _external_account_created,
    "account.external_account.updated": _external_account_created,
}


def trigger(base: str, event_type: str) -> int:
    if event_type not in RECIPES:
        print("Supported events:\n  " + "\n  ".join(sorted(RECIPES)))
        return 0 if event_type == "list" else 2
    print(f"Setting up fixture for: {event_type}")
    RECIPES[event_type](Api(base))
    print(f"Trigger succeeded! See the events at {base.rstrip('/')}/_sandbox/")
    return 0
