"""`GET /v1/payments` (100 per page) and the portal's payments page with 100 000 payments in the database.

    .venv/bin/python bench/payin_list.py [--payments 100000] [--pages 200]

The payments are inserted straight into PostgreSQL (two orders each, a refund on one in fifty, created over
the last 100 days; the buyer fields hold real Fernet tokens of the system's key) and ANALYZEd, then one client
walks the list: the first page and then `starting_after` page after page (the API), the first page and then
`starting_after` (the portal, signed in as the demo merchant). Each request is timed; printed: p50, p99 and max
of each walk, and the query plan of the API's page query.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

import psycopg
import requests
from cryptography.fernet import Fernet
from harness import loadavg, machine, running_system, save

SEED = """
INSERT INTO payment_events (id, merchant_id, checkout_id, request_hash, currency, amount_total, status,
    buyer_email_enc, buyer_name_enc, attempt, created_at, updated_at)
SELECT 'pay_bench' || lpad(g::text, 16, '0'), %(merchant)s, 'list_' || g, md5(g::text) || md5(g::text), 'USD',
    515, (ARRAY['NOT_STARTED','SUCCESS','SUCCESS','FAILED','PENDING'])[1 + g %% 5], %(email)s, %(name)s, 0,
    now() - make_interval(secs => (%(count)s - g) * 86.4), now()
FROM generate_series(1, %(count)s) g;
INSERT INTO payment_orders (id, payment_event_id, payment_order_id, position, seller_account_id, amount, currency,
    status, ledger_updated, wallet_updated, created_at, updated_at)
SELECT 'po_bench' || lpad(g::text, 16, '0') || p, 'pay_bench' || lpad(g::text, 16, '0'), 'o' || p, p,
    (ARRAY[%(seller_a)s, %(seller_b)s])[p + 1], CASE p WHEN 0 THEN 315 ELSE 200 END, 'USD', 'NOT_STARTED',
    false, false, now(), now()
FROM generate_series(1, %(count)s) g, generate_series(0, 1) p;
"""
REFUNDS = """
INSERT INTO refunds (id, merchant_id, payment_event_id, payment_order_id, seller_account_id, amount, currency,
    status, reason, seller_share, fee_share, funds, source, created_at, updated_at)
SELECT 're_bench' || lpad(g::text, 16, '0'), %(merchant)s, 'pay_bench' || lpad(g::text, 16, '0'),
    'po_bench' || lpad(g::text, 16, '0') || '0', %(seller_a)s, 100, 'USD', 'succeeded', 'requested_by_customer',
    90, 10, 'available', 'api', now(), now()
FROM generate_series(50, %(count)s, 50) g;
"""

# The shape of webapp.services.payment_reads' page statement, from a cursor half-way down the list.
PAGE_PLAN = """
EXPLAIN ANALYZE SELECT page.*, o.* FROM (
    SELECT * FROM payment_events e WHERE e.merchant_id = %(merchant)s AND (e.created_at, e.id) < (
        (SELECT c.created_at FROM payment_events c WHERE c.merchant_id = %(merchant)s AND c.id = %(after)s), %(after)s)
    ORDER BY e.created_at DESC, e.id DESC LIMIT 101) page
LEFT JOIN payment_orders o ON o.payment_event_id = page.id ORDER BY page.created_at DESC, page.id DESC, o.position
"""


def timed_walk(session: requests.Session, first_url: str, next_url, pages: int) -> dict:
    timings = []
    url = first_url
    for _ in range(pages):
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        url = next_url(response)
        if url is None:
            break
    timings.sort()
    return {"requests": len(timings), "p50_ms": round(statistics.median(timings), 2),
            "p99_ms": round(timings[max(0, int(len(timings) * 0.99) - 1)], 2), "max_ms": round(timings[-1], 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    with running_system(("--workers", "2", "--threads", "8")) as system:
        database_url = system.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        sellers = system.demo["DEMO_SELLER_ACCOUNTS"].split(",")
        key = json.loads((Path(system.env["INSTANCE_PATH"]) / "dev-secrets.json").read_text())["DATA_ENCRYPTION_KEY"]
        fernet = Fernet(key.split(",")[0].encode())
        with psycopg.connect(database_url) as conn:
            merchant = conn.execute("SELECT merchant_id FROM seller_accounts WHERE id = %s",
                                    (sellers[0],)).fetchone()[0]
            params = {"merchant": merchant, "count": args.payments, "seller_a": sellers[0], "seller_b": sellers[1],
                      "email": fernet.encrypt(b"buyer@example.com").decode(),
                      "name": fernet.encrypt(b"Bench Buyer").decode()}
            started = time.perf_counter()
            for statement in SEED.split(";")[:2]:
                conn.execute(statement, params)
            conn.execute(REFUNDS, params)
            conn.commit()
            conn.autocommit = True
            conn.execute("ANALYZE")
            seeded = round(time.perf_counter() - started, 1)

        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {system.demo['DEMO_API_KEY']}"
        base = f"{system.web_url}/v1/payments?limit=100"

        def next_api(response: requests.Response) -> str | None:
            body = response.json()
            return f"{base}&starting_after={body['data'][-1]['id']}" if body["has_more"] else None

        portal = requests.Session()
        login = portal.get(f"{system.web_url}/login", timeout=30).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login)
        assert token is not None
        portal.post(f"{system.web_url}/login", timeout=30, data={
            "email": system.demo["DEMO_MERCHANT_EMAIL"], "password": system.demo["DEMO_MERCHANT_PASSWORD"],
            "csrf_token": token.group(1)}).raise_for_status()

        def next_portal(response: requests.Response) -> str | None:
            found = re.search(r'href="([^"]*[?&](?:starting_)?after=[^"]+)"', response.text)
            return f"{system.web_url}{found.group(1).replace('&amp;', '&')}" if found else None

        api_walk, api_walk_2 = (timed_walk(api, base, next_api, args.pages) for _ in range(2))
        load = loadavg()
        portal_walk = timed_walk(portal, f"{system.web_url}/portal/payments", next_portal, args.pages)
        with psycopg.connect(database_url) as conn:
            middle = f"pay_bench{args.payments // 2:016d}"
            plan = [row[0] for row in conn.execute(PAGE_PLAN, {"merchant": merchant, "after": middle})]
    save("payin_list", {"machine": machine(), "payments": args.payments, "seed_seconds": seeded, "load": load,
                        "api_list_100": api_walk, "api_list_100_again": api_walk_2,
                        "portal_payments_page": portal_walk, "api_page_plan": plan})


if __name__ == "__main__":
    main()
