"""The authorization matrix: every route of the URL map, as anonymous / merchant A / merchant B / admin.

`MATRIX` classifies each (endpoint, method) and says what each actor gets. The URLs name merchant B's real
records (a paid payment and its order, a seller account, a payout, an API key, B's user and a team member, webhook
endpoints, an event and its delivery) and the admin's (a reconciliation run and mismatch, PSP events, a dead outbox
row, merchant C to disable), so "merchant A gets 404" means A asked for B's record and was told it does
not exist, exactly as for a missing one. A route missing from the table fails the test: a new route must be
classified before it ships. Each actor's answer must be:

  ok      not refused (a 2xx/3xx, or a 400 form/validation error: the request reached the handler)
  login   a redirect to the sign-in page (a page that needs a signed-in user)
  401     the API without a valid key
  403     the wrong kind of account
  404     another merchant's record (cross-tenant), indistinguishable from a missing one
  400     refused as malformed whoever asks (an unsigned PSP webhook)
  public  open to anyone (pages for buyers, health, sign-in, PSP webhooks): never 401/403/404/5xx
  signout signed out: sent to the sign-in page, and the session no longer works
  ws-open / ws-closed   a WebSocket that answers / is closed with 1008 (admins only)
  ws-token              a checkout's WebSocket: closed without the page's signed token, open with it, for anyone
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support import factories
from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import payouts as po
from tests.support import reconciliation as recon
from tests.support.browsers import browser
from tests.support.forms import csrf_token, login
from webapp.domain.webhooks import EventType
from webapp.extensions import db
from webapp.live.views import token_for
from webapp.models import OutboxMessage, PspEvent, ReconMismatch, User, WebhookDelivery
from webapp.services import api_keys, demo, team, webhook_endpoints, webhook_events
from webapp.services.webhook_endpoints import NewEndpoint

ACTORS = ("anonymous", "merchant_a", "merchant_b", "admin")
A_EMAIL, B_EMAIL, ADMIN_EMAIL = "owner@a.example.com", "owner@b.example.com", "admin@platform.example.com"
C_EMAIL, MEMBER_B_EMAIL = "owner@c.example.com", "viewer@b.example.com"
DEAD_EVENT = "evt_matrixdead1"

PORTAL_OWN = {"anonymous": "login", "merchant_a": "404", "merchant_b": "ok", "admin": "403"}
PORTAL = {"anonymous": "login", "merchant_a": "ok", "merchant_b": "ok", "admin": "403"}
ADMIN = {"anonymous": "login", "merchant_a": "403", "merchant_b": "403", "admin": "ok"}
ACCOUNT = {"anonymous": "login", "merchant_a": "ok", "merchant_b": "ok", "admin": "ok"}
API_OWN = {"anonymous": "401", "merchant_a": "404", "merchant_b": "ok", "admin": "401"}
API = {"anonymous": "401", "merchant_a": "ok", "merchant_b": "ok", "admin": "401"}
PUBLIC = dict.fromkeys(ACTORS, "public")
SIGN_OUT = dict.fromkeys(ACTORS[1:], "signout")
WS_ADMIN = {**dict.fromkeys(ACTORS, "ws-closed"), "admin": "ws-open"}


@dataclass(frozen=True)
class Check:
    url: str
    rule: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)
    json: bool = False
    fresh: bool = False  # ends the session (sign-out): each actor uses a session of its own


def matrix(o: dict[str, str]) -> dict[tuple[str, str], Check]:
    """(endpoint, method) → the request and each actor's expected answer; `o` holds the records' ids."""
    pay_b, seller_b, payout_b = o["payment"], o["seller"], o["payout"]
    hook_b, delivery_b, member_b, merchant_c = o["endpoint"], o["delivery"], o["member_b"], o["merchant_c"]
    return {
        # Sign-in and the account's own security page
        ("auth.index", "GET"): Check("/", PUBLIC),
        ("auth.login", "GET"): Check("/login", PUBLIC),
        ("auth.login", "POST"): Check("/login", {**PUBLIC, "anonymous": "401"},  # wrong password
                                      {"email": "nobody@example.com", "password": "x"}),
        ("auth.verify", "GET"): Check("/login/verify", PUBLIC),
        ("auth.verify", "POST"): Check("/login/verify", PUBLIC, {"code": "000000"}),
        ("auth.logout", "POST"): Check("/logout", {**ACCOUNT, **SIGN_OUT}, fresh=True),
        ("auth.security", "GET"): Check("/account/security", ACCOUNT),
        ("auth.change_password", "POST"): Check("/account/security/password", ACCOUNT, {"current_password": "x"}),
        ("auth.two_factor_setup", "GET"): Check("/account/security/two-factor", ACCOUNT),
        ("auth.two_factor_setup", "POST"): Check("/account/security/two-factor", ACCOUNT, {"code": "1"}),
        ("auth.two_factor_disable", "POST"): Check("/account/security/two-factor/disable", ACCOUNT, {"password": ""}),
        ("auth.set_user_status", "POST"): Check(f"/admin/users/{o['user_b']}/enable", ADMIN),
        # The merchant portal: B's records
        ("portal.dashboard", "GET"): Check("/portal", PORTAL),
        ("portal.payments_list", "GET"): Check("/portal/payments", PORTAL),
        ("portal.payments_csv_export", "GET"): Check("/portal/payments.csv", PORTAL),
        ("portal.payment", "GET"): Check(f"/portal/payments/{pay_b}", PORTAL_OWN),
        ("portal.refund_order", "POST"): Check(f"/portal/payments/{pay_b}/orders/{o['order']}/refund",
                                               PORTAL_OWN, {"amount": ""}),
        ("portal.wallets", "GET"): Check("/portal/wallets", PORTAL),
        ("portal.wallet", "GET"): Check(f"/portal/sellers/{seller_b}/wallet", PORTAL_OWN),
        ("portal.payouts_list", "GET"): Check("/portal/payouts", PORTAL),
        ("portal.payout", "GET"): Check(f"/portal/payouts/{payout_b}", PORTAL_OWN),
        ("portal.payout_csv", "GET"): Check(f"/portal/payouts/{payout_b}.csv", PORTAL_OWN),
        ("portal.payout_settings", "GET"): Check("/portal/payout-settings", PORTAL),
        ("portal.payout_settings", "POST"): Check("/portal/payout-settings", PORTAL, {"interval": "nonsense"}),
        ("portal.sellers", "GET"): Check("/portal/sellers", PORTAL),
        ("portal.sellers", "POST"): Check("/portal/sellers", PORTAL, {"display_name": ""}),
        ("portal.seller", "GET"): Check(f"/portal/sellers/{seller_b}", PORTAL_OWN),
        ("portal.edit_seller", "POST"): Check(f"/portal/sellers/{seller_b}/edit", PORTAL_OWN, {"display_name": ""}),
        ("portal.replace_bank_account", "POST"): Check(f"/portal/sellers/{seller_b}/bank-account", PORTAL_OWN,
                                                       {"iban": "not an iban"}),
        ("portal.seller_status", "POST"): Check(f"/portal/sellers/{seller_b}/status/active", PORTAL_OWN),
        ("portal.pay_now", "POST"): Check(f"/portal/sellers/{seller_b}/payout", PORTAL_OWN),
        ("portal.keys", "GET"): Check("/portal/api-keys", PORTAL),
        ("portal.keys", "POST"): Check("/portal/api-keys", PORTAL, {"name": ""}),
        ("portal.revoke_key", "POST"): Check(f"/portal/api-keys/{o['spare_key']}/revoke", PORTAL_OWN),
        # Settings: the team (owners change it). Another merchant's member is a 404, like a missing one
        ("portal.settings", "GET"): Check("/portal/settings", PORTAL),
        ("portal.team_add", "POST"): Check("/portal/settings/team", PORTAL, {"email": "", "role": "viewer"}),
        ("portal.team_role", "POST"): Check(f"/portal/settings/team/{member_b}/role", PORTAL_OWN,
                                            {f"member-{member_b}-role": "viewer"}),
        ("portal.team_remove", "POST"): Check(f"/portal/settings/team/{member_b}/remove", PORTAL_OWN),  # B removes it
        # Webhook endpoints and their deliveries
        ("portal.webhooks", "GET"): Check("/portal/webhooks", PORTAL),
        ("portal.webhooks", "POST"): Check("/portal/webhooks", PORTAL, {"url": ""}),
        ("portal.webhook", "GET"): Check(f"/portal/webhooks/{hook_b}", PORTAL_OWN),
        ("portal.rotate_webhook_secret", "POST"): Check(f"/portal/webhooks/{hook_b}/rotate", PORTAL_OWN),
        ("portal.toggle_webhook", "POST"): Check(f"/portal/webhooks/{hook_b}/enabled", PORTAL_OWN, {"enabled": "1"}),
        ("portal.resend_webhook", "POST"): Check(f"/portal/webhooks/{hook_b}/deliveries/{delivery_b}/resend",
                                                 PORTAL_OWN),
        ("portal.delete_webhook", "POST"): Check(f"/portal/webhooks/{o['spare_hook']}/delete", PORTAL_OWN),
        # The admin area
        ("admin.merchants", "GET"): Check("/admin/merchants", ADMIN),
        ("admin.merchant", "GET"): Check(f"/admin/merchants/{o['merchant_b']}", ADMIN),
        ("admin.merchant_new", "GET"): Check("/admin/merchants/new", ADMIN),
        ("admin.merchant_new", "POST"): Check("/admin/merchants/new", ADMIN, {"name": ""}),
        # Changing a merchant: merchant C, whom no other check uses (disabled, then enabled again)
        ("admin.merchant_rename", "POST"): Check(f"/admin/merchants/{merchant_c}/name", ADMIN, {"name": "Merchant C"}),
        ("admin.merchant_fees", "POST"): Check(f"/admin/merchants/{merchant_c}/fees", ADMIN, {"use_default": "y"}),
        ("admin.merchant_disable", "POST"): Check(f"/admin/merchants/{merchant_c}/disable", ADMIN,
                                                  {"reason": "authorization matrix"}),
        ("admin.merchant_enable", "POST"): Check(f"/admin/merchants/{merchant_c}/enable", ADMIN),
        ("admin.payments_search", "GET"): Check("/admin/payments", ADMIN),
        ("admin.payment", "GET"): Check(f"/admin/payments/{pay_b}", ADMIN),
        ("admin.audit_log", "GET"): Check("/admin/audit", ADMIN),
        ("admin.health", "GET"): Check("/admin/health", ADMIN),
        ("admin.events", "GET"): Check("/admin/events", ADMIN),
        ("admin.event", "GET"): Check(f"/admin/events/{o['psp_event']}", ADMIN),
        ("admin.event_reapply", "POST"): Check(f"/admin/events/{DEAD_EVENT}/reapply", ADMIN),  # dead, ignorable
        ("admin.work", "GET"): Check("/admin/work", ADMIN),
        ("admin.work_outbox", "POST"): Check(f"/admin/work/outbox/{o['dead_outbox']}/discard", ADMIN),
        ("admin.work_inbox", "POST"): Check(f"/admin/work/inbox/{o['psp_event']}/discard", ADMIN),  # not dead
        ("admin.work_job", "POST"): Check("/admin/work/jobs/default/no-such-job/discard", ADMIN),
        ("admin.ledger", "GET"): Check("/admin/ledger", ADMIN),
        ("admin.payouts_list", "GET"): Check("/admin/payouts", ADMIN),
        ("admin.retry_payout", "POST"): Check(f"/admin/payouts/{payout_b}/retry", ADMIN),
        ("admin.reconciliation", "GET"): Check("/admin/reconciliation", ADMIN),
        ("admin.reconciliation_start", "POST"): Check("/admin/reconciliation/runs", ADMIN, {"date": ""}),
        ("admin.reconciliation_run", "GET"): Check(f"/admin/reconciliation/runs/{o['run']}", ADMIN),
        ("admin.reconciliation_mismatch", "GET"): Check(f"/admin/reconciliation/mismatches/{o['mismatch']}", ADMIN),
        ("admin.reconciliation_act", "POST"): Check(f"/admin/reconciliation/mismatches/{o['mismatch']}/take", ADMIN),
        ("__flask_sock.reconciliation_socket", "GET"): Check(f"/ws/reconciliation/{o['run']}", WS_ADMIN),
        # The merchant API (API keys, no sessions)
        ("api.openapi", "GET"): Check("/v1/openapi.json", PUBLIC),
        ("api.list_payments", "GET"): Check("/v1/payments", API),
        ("api.create_payment", "POST"): Check("/v1/payments", API, {}, json=True),
        ("api.get_payment", "GET"): Check(f"/v1/payments/{o['checkout']}", API_OWN),
        ("api.create_refund", "POST"): Check(f"/v1/payments/{o['checkout']}/refunds", API_OWN,
                                             {"payment_order_id": o["order_ref"], "amount": "nonsense"}, json=True),
        ("api.list_seller_accounts", "GET"): Check("/v1/seller_accounts", API),
        ("api.create_seller_account", "POST"): Check("/v1/seller_accounts", API, {}, json=True),
        ("api.get_seller_account", "GET"): Check(f"/v1/seller_accounts/{seller_b}", API_OWN),
        ("api.update_seller_account", "POST"): Check(f"/v1/seller_accounts/{seller_b}", API_OWN,
                                                     {"display_name": ""}, json=True),
        ("api.get_seller_balance", "GET"): Check(f"/v1/seller_accounts/{seller_b}/balance", API_OWN),
        ("api.list_payouts", "GET"): Check("/v1/payouts", API),
        ("api.create_payout", "POST"): Check("/v1/payouts", API, {}, json=True),
        ("api.get_payout", "GET"): Check(f"/v1/payouts/{payout_b}", API_OWN),
        ("api.list_webhook_endpoints", "GET"): Check("/v1/webhook_endpoints", API),
        ("api.create_webhook_endpoint", "POST"): Check("/v1/webhook_endpoints", API, {}, json=True),
        ("api.get_webhook_endpoint", "GET"): Check(f"/v1/webhook_endpoints/{hook_b}", API_OWN),
        ("api.list_webhook_deliveries", "GET"): Check(f"/v1/webhook_endpoints/{hook_b}/deliveries", API_OWN),
        ("api.resend_webhook_delivery", "POST"): Check(f"/v1/webhook_deliveries/{delivery_b}/resend", API_OWN,
                                                       json=True),
        ("api.delete_webhook_endpoint", "DELETE"): Check(f"/v1/webhook_endpoints/{o['spare_hook_api']}", API_OWN),
        ("api.list_events", "GET"): Check("/v1/events", API),
        ("api.get_event", "GET"): Check(f"/v1/events/{o['event']}", API_OWN),
        # Buyers, the PSP, operations: open, each protected its own way (unguessable ids, signatures)
        ("checkout.page", "GET"): Check(f"/checkout/{pay_b}", PUBLIC),
        ("checkout.pay", "POST"): Check(f"/checkout/{pay_b}/pay", PUBLIC),
        ("checkout.returned", "GET"): Check(f"/checkout/{pay_b}/return", PUBLIC),
        ("checkout.status", "GET"): Check(f"/checkout/{pay_b}/status", PUBLIC),
        ("__flask_sock.checkout_socket", "GET"): Check(f"/ws/checkouts/{pay_b}", dict.fromkeys(ACTORS, "ws-token")),
        ("storefront.shop", "GET"): Check("/demo/shop", PUBLIC),
        ("storefront.checkout", "POST"): Check("/demo/shop/checkout", PUBLIC, {"email": "not an email"}),
        ("storefront.thanks", "GET"): Check(f"/demo/shop/thanks?order={o['demo_order']}", PUBLIC),  # no order: 404
        ("webhooks.psp_webhook", "POST"): Check("/webhooks/psp", dict.fromkeys(ACTORS, "400"), {"type": "forged"},
                                                json=True),  # unsigned
        ("ops.healthz", "GET"): Check("/healthz", PUBLIC),
        ("ops.readyz", "GET"): Check("/readyz", PUBLIC),
        ("metrics.scrape", "GET"): Check("/metrics", PUBLIC),  # METRICS_PUBLIC in test and development
        ("static", "GET"): Check("/static/app.css", PUBLIC),
    }


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


@pytest.fixture
def demo_shop(app, gateway_server) -> Iterator[demo.DemoCredentials]:
    """The demo data the storefront sells from (its credentials file is removed afterwards)."""
    env_path = Path(app.instance_path) / "demo.env"
    yield demo.seed(env_path, gateway_server)
    env_path.unlink(missing_ok=True)


@pytest.fixture
def records(app, client, psp, tmp_path, demo_shop) -> dict[str, str]:
    """Merchant B's paid payment, seller, payout and keys; merchant A with a seller of its own; an admin with a
    reconciliation run that found a mismatch; the demo shop's data."""
    merchant_b = factories.merchant(name="Merchant B", email=B_EMAIL)
    (seller,) = po.onboarded_sellers(merchant_b, [po.GOOD_IBANS[0]])
    key_b = factories.api_key(merchant_b)
    spare = api_keys.create(merchant_b, "spare key").record.id
    event = books.paid_checkout(client, pay.Api(client, key_b), [seller], psp.url, amounts=("20.00",))
    po.make_available(psp.url)
    (payout_id,) = po.run_and_submit(seller_id=seller.id).created
    merchant_a = factories.merchant(name="Merchant A", email=A_EMAIL)
    factories.seller(merchant_a, index=1)
    key_a = factories.api_key(merchant_a)
    factories.admin(ADMIN_EMAIL)
    day = recon.psp_day(psp.url)
    header, lines = recon.rows(recon.report_csv(psp.url, day))
    lines[0]["fee"] = f"{float(lines[0]['fee']) + 0.07:.2f}"
    run = recon.reconcile(day, recon.write(tmp_path / "day.csv", header, lines)).run
    db.session.rollback()
    demo_order = "demo-matrix"  # an order of the demo shop, for its thanks page
    created = pay.Api(client, demo_shop.api_key).create({
        "checkout_id": demo_order, "buyer_info": {"email": "buyer@example.com"},
        "payment_orders": [{"payment_order_id": f"{demo_order}-1", "seller_account": demo_shop.seller_ids[0],
                            "amount": "5.00", "currency": "USD"}]})
    assert created.status_code in (200, 201), created.get_data(as_text=True)
    psp_event = db.session.scalar(select(PspEvent.id).order_by(PspEvent.received_at, PspEvent.id))
    hook = NewEndpoint.parse("https://hooks.b.example.com/gateway", ["*"])
    endpoint, spare_hook, spare_hook_api = (webhook_endpoints.create(merchant_b.id, hook).endpoint.id
                                            for _ in range(3))
    event_id = webhook_events.emit(merchant_b.id, EventType.SELLER_ACCOUNT_UPDATED, seller.id, {"id": seller.id})
    merchant_c = factories.merchant(name="Merchant C", email=C_EMAIL).id
    member_b = team.add(merchant_b, MEMBER_B_EMAIL, "viewer")[0].id
    dead_outbox = OutboxMessage(topic="matrix.dead", dedupe_key="matrix-dead", status="dead", attempts=5,
                                last_error="authorization matrix")
    db.session.add_all([dead_outbox, PspEvent(
        id=DEAD_EVENT, type="customer.created", object_id="cus_matrix1", attempts=5, result="dead",
        last_error="authorization matrix", payload=json.dumps(
            {"id": DEAD_EVENT, "object": "event", "type": "customer.created", "created": 1_700_000_000,
             "data": {"object": {"id": "cus_matrix1", "object": "customer"}}}))])
    db.session.commit()
    delivery = db.session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint))
    ids = {"payment": event.id, "order": event.orders[0].id, "order_ref": event.orders[0].payment_order_id,
            "checkout": event.checkout_id, "seller": seller.id, "payout": payout_id, "spare_key": spare,
            "merchant_b": merchant_b.id, "user_b": db.session.scalar(select(User.id).where(User.email == B_EMAIL)),
            "run": run.id, "mismatch": db.session.scalar(select(ReconMismatch.id)), "key_a": key_a, "key_b": key_b,
            "endpoint": endpoint, "spare_hook": spare_hook, "spare_hook_api": spare_hook_api, "event": event_id,
            "delivery": delivery, "member_b": member_b, "merchant_c": merchant_c, "psp_event": psp_event,
            "dead_outbox": str(dead_outbox.id), "demo_order": demo_order}
    db.session.rollback()  # hold no (SQLite) lock while the actors' requests write
    return ids


class Actor:
    HOME = {"anonymous": "/login", "merchant_a": "/portal", "merchant_b": "/portal", "admin": "/admin/merchants"}
    EMAIL = {"merchant_a": A_EMAIL, "merchant_b": B_EMAIL, "admin": ADMIN_EMAIL}

    def __init__(self, app, name: str, key: str | None) -> None:
        self.app, self.name, self.key = app, name, key
        self.client = self.session()

    def session(self):
        client = browser(self.app)
        db.session.rollback()
        if self.name in self.EMAIL:
            assert login(client, self.EMAIL[self.name], factories.PASSWORD).status_code == 302
        return client

    def send(self, method: str, check: Check):
        client = self.session() if check.fresh else self.client
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        db.session.rollback()
        if method == "GET":
            return client.get(check.url, headers=headers)
        if method == "DELETE":
            return client.delete(check.url, headers=headers)
        if check.json:
            return client.post(check.url, json=check.body, headers=headers)
        token = csrf_token(client.get(self.HOME[self.name]).get_data(as_text=True))
        return client.post(check.url, data={**check.body, "csrf_token": token}, headers=headers)

    def socket(self, base_url: str, path: str) -> object:
        """The first message of a WebSocket (decoded), or the close code it was refused with."""
        db.session.rollback()  # no SQLite lock held by the test while the server's thread reads
        cookie = self.client.get_cookie("session")
        headers = {"Cookie": f"session={cookie.value}"} if cookie else {}
        with connect(base_url.replace("http", "ws", 1) + path, additional_headers=headers, open_timeout=30) as ws:
            try:
                return json.loads(ws.recv(timeout=30))
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None


def _judge(kind: str, response, where: str) -> None:
    status, location = response.status_code, response.headers.get("Location", "")
    assert status < 500, where
    to_login = status == 302 and "/login" in location
    if kind == "ok":
        assert status not in (401, 403, 404, 405) and not to_login, where
    elif kind == "public":
        assert status not in (401, 403, 404, 405), where
    elif kind == "login":
        assert to_login and "next=" in location, where
    elif kind == "signout":
        assert to_login and "next=" not in location, where
    else:
        assert status == int(kind), where


def test_every_route_as_every_actor(app, records, gateway_server):
    table = matrix(records)
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    unclassified = sorted(routes - table.keys())
    assert not unclassified, f"classify these routes in MATRIX: {unclassified}"
    assert not sorted(table.keys() - routes), "MATRIX names routes that no longer exist"

    actors = [Actor(app, "anonymous", None), Actor(app, "merchant_a", records["key_a"]),
              Actor(app, "merchant_b", records["key_b"]), Actor(app, "admin", None)]
    b_ids = [records[k] for k in ("payment", "order", "checkout", "seller", "payout", "spare_key", "endpoint",
                                  "spare_hook", "spare_hook_api", "event", "delivery", "member_b")]
    for (endpoint, method), check in table.items():
        for actor in actors:
            kind = check.rule[actor.name]
            where = f"{method} {check.url} ({endpoint}) as {actor.name}: expected {kind}"
            if kind.startswith("ws"):
                _judge_socket(kind, actor, gateway_server, check.url, where)
                continue
            response = actor.send(method, check)
            if check.fresh:  # signing out ends every session of the user (webapp/auth/sessions.py)
                assert actor.client.get("/account/security").status_code == 302
                actor.client = actor.session()
            _judge(kind, response, f"{where}, got {response.status_code} {response.headers.get('Location', '')}")
            if actor.name == "merchant_a" and kind in ("ok", "public") and not endpoint.startswith("checkout."):
                body = response.get_data(as_text=True)
                leaked = [i for i in b_ids if i in body]
                assert not leaked, f"{where}: merchant B's records in merchant A's answer: {leaked}"
    for actor in actors[1:]:  # every session still works: no check above signed anyone out by accident
        assert actor.send("GET", Check("/account/security", ACCOUNT)).status_code == 200, actor.name


def _judge_socket(kind: str, actor: Actor, base_url: str, path: str, where: str) -> None:
    if kind == "ws-token":
        assert actor.socket(base_url, path) == 1008, where
        answer = actor.socket(base_url, f"{path}?token={token_for(path.rsplit('/', 1)[1])}")
        assert isinstance(answer, dict) and "state" in answer, (where, answer)
    elif kind == "ws-open":
        answer = actor.socket(base_url, path)
        assert isinstance(answer, dict) and answer.get("run") == path.rsplit("/", 1)[1], (where, answer)
    else:
        assert actor.socket(base_url, path) == 1008, where
