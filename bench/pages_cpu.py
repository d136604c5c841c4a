"""CPU and SQL statements per request of the list pages and of pressing Pay, in-process, A/B between code trees.

    .venv/bin/python bench/pages_cpu.py [--payments 100000] [--pages 100] [--presses 300] [--rounds 2] \
        [--other /path/to/another/tree] [--profile press.prof]

Wall-clock rates mean little on a shared machine; CPU time of the process that serves does. This script seeds one
PostgreSQL database (100 000 payments inserted with SQL: two orders each, some in JPY, some without a buyer name or
description, refunds in several statuses on one payment in twenty-five), then runs the measurement in a child
process per code tree (this one, and `--other`, e.g. `git archive main` unpacked), alternating, `--rounds` times.
Each child serves through Flask's test client, in one process: `time.process_time` per request kind, and the SQL
statements sent (SQLAlchemy's `before_cursor_execute`) plus transaction ends (commit/rollback), per request.

Measured: `GET /v1/payments?limit=100` page after page (`starting_after`), the portal's payments page (`after`,
25 a page), and pressing Pay on fresh checkouts of another merchant (the checkout page, then its form post). The
API pages' bodies and the portal pages (CSRF tokens removed) are hashed: the trees must answer the same bytes.
With `--profile FILE`, the measured presses run under cProfile and its stats are written to FILE (this tree's last
round; read them with `python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SEED = """
INSERT INTO payment_events (id, merchant_id, checkout_id, request_hash, currency, amount_total, status,
    buyer_email_enc, buyer_name_enc, success_url, cancel_url, failure_code, attempt, created_at, updated_at)
SELECT 'pay_bench' || lpad(g::text, 16, '0'), %(merchant)s, 'list_' || g, md5(g::text) || md5(g::text),
    CASE WHEN g %% 7 = 0 THEN 'JPY' ELSE 'USD' END, 515,
    (ARRAY['NOT_STARTED','SUCCESS','SUCCESS','FAILED','PENDING'])[1 + g %% 5],
    (%(emails)s::text[])[1 + g %% 100], CASE WHEN g %% 3 = 0 THEN NULL ELSE (%(names)s::text[])[1 + g %% 100] END,
    CASE WHEN g %% 2 = 0 THEN 'https://shop.example.com/ok/' || g END, NULL,
    CASE WHEN g %% 5 = 3 THEN 'payment_failed' END, 1,
    now() - interval '2 hours' - make_interval(secs => (%(count)s - g) * 86.4),
    now() - interval '2 hours' - make_interval(secs => (%(count)s - g) * 86.4)
FROM generate_series(1, %(count)s) g
"""
ORDERS = """
INSERT INTO payment_orders (id, payment_event_id, payment_order_id, position, seller_account_id, amount, currency,
    description, status, ledger_updated, wallet_updated, created_at, updated_at)
SELECT 'po_bench' || lpad(g::text, 16, '0') || p, 'pay_bench' || lpad(g::text, 16, '0'), 'o' || p, p,
    (%(sellers)s::text[])[p + 1], CASE p WHEN 0 THEN 315 ELSE 200 END, CASE WHEN g %% 7 = 0 THEN 'JPY' ELSE 'USD' END,
    CASE WHEN p = 1 THEN 'Item ' || g END, (ARRAY['NOT_STARTED','SUCCESS','SUCCESS','FAILED','PENDING'])[1 + g %% 5],
    g %% 5 IN (1, 2), g %% 5 IN (1, 2), now(), now()
FROM generate_series(1, %(count)s) g, generate_series(0, 1) p
"""
REFUNDS = """
INSERT INTO refunds (id, merchant_id, payment_event_id, payment_order_id, seller_account_id, amount, currency,
    status, reason, seller_share, fee_share, funds, source, failure_reason, created_at, updated_at)
SELECT 're_bench' || lpad(g::text, 16, '0') || k, %(merchant)s, 'pay_bench' || lpad(g::text, 16, '0'),
    'po_bench' || lpad(g::text, 16, '0') || (k %% 2), (%(sellers)s::text[])[(k %% 2) + 1], 50 + k,
    CASE WHEN g %% 7 = 0 THEN 'JPY' ELSE 'USD' END, (ARRAY['succeeded','pending','failed'])[k + 1],
    'requested_by_customer', 45, 5 + k, 'available', 'api', CASE WHEN k = 2 THEN 'declined' END,
    now() - make_interval(secs => k), now()
FROM generate_series(25, %(count)s, 25) g, generate_series(0, (g / 25) %% 3) k
"""


def seed(args) -> dict:
    """A migrated database with two merchants: one holding the listed payments, one whose checkouts are paid."""
    import psycopg
    from flask_migrate import upgrade

    from config import load_config
    from tests.conftest import POSTGRES_ADMIN_URL, create_postgres_database
    from tests.support import factories
    from tests.support import payments as pay
    from webapp import create_app
    from webapp.extensions import db
    from webapp.services import crypto

    name, url = create_postgres_database(POSTGRES_ADMIN_URL)
    app = create_app(load_config("test"), SQLALCHEMY_DATABASE_URI=url.replace("postgresql://", "postgresql+psycopg://"),
                     REDIS_URL=args.redis)
    with app.app_context():
        upgrade()
        listed, sellers, key = pay.merchant_with_sellers(2)
        jpy = factories.seller(listed, index=2, currency="JPY")
        _, shop_sellers, shop_key = pay.merchant_with_sellers(2)
        params = {"merchant": listed.id, "count": args.payments, "sellers": [s.id for s in sellers],
                  "emails": [crypto.encrypt(f"buyer{n}@example.com") for n in range(100)],
                  "names": [crypto.encrypt(f"Buyer Nº{n}") for n in range(100)]}
        info = {"name": name, "url": url, "key": key, "merchant_email": listed.users[0].email,
                "shop_key": shop_key, "shop_sellers": [s.id for s in shop_sellers], "jpy_seller": jpy.id}
        db.session.remove()
        db.engine.dispose()
    with psycopg.connect(url) as conn:
        conn.execute(SEED, params)
        conn.execute(ORDERS, params)
        conn.execute(REFUNDS, params)
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")
    return info


class Counter:
    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.statements = self.ends = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _statement(self, *_args) -> None:
        self.statements += 1

    def _end(self, *_args) -> None:
        self.ends += 1

    def take(self) -> tuple[int, int]:
        taken = (self.statements, self.ends)
        self.statements = self.ends = 0
        return taken


class Meter:
    """CPU, wall time, statements and transaction ends of one kind of request."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.reset()

    def reset(self) -> None:
        self.cpu, self.wall, self.statements, self.ends = [], [], [], []

    def __call__(self, send, *args, **kwargs):
        self.counter.take()
        cpu, wall = time.process_time(), time.perf_counter()
        response = send(*args, **kwargs)
        self.cpu.append((time.process_time() - cpu) * 1000)
        self.wall.append((time.perf_counter() - wall) * 1000)
        statements, ends = self.counter.take()
        self.statements.append(statements)
        self.ends.append(ends)
        assert response.status_code < 400, (response.status_code, response.get_data(as_text=True)[:500])
        return response

    def summary(self) -> dict:
        ordered = sorted(self.wall)
        return {"requests": len(self.cpu), "cpu_ms_mean": round(statistics.fmean(self.cpu), 3),
                "cpu_ms_median": round(statistics.median(self.cpu), 3),
                "wall_ms_p50": round(statistics.median(ordered), 2),
                "wall_ms_p99": round(ordered[max(0, int(len(ordered) * 0.99) - 1)], 2),
                "statements": sorted(set(self.statements)), "transaction_ends": sorted(set(self.ends))}


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def measure(args) -> dict:
    from config import load_config
    from tests.support import payments as pay
    from tests.support.factories import PASSWORD
    from tests.support.forms import login
    from webapp import create_app
    from webapp.extensions import db

    info = json.loads(args.info)
    app = create_app(load_config("test"), REDIS_URL=args.redis, RATELIMIT_STORAGE_URI=args.redis,
                     SQLALCHEMY_DATABASE_URI=info["url"].replace("postgresql://", "postgresql+psycopg://"),
                     PUBLIC_BASE_URL="http://gateway.example", API_RATE_LIMIT="1000000 per second")
    import webapp

    result: dict = {"root": str(Path(webapp.__file__).parents[1])}
    with app.app_context():
        counter = Counter(db.engine)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {info['key']}"}

    api, digest = Meter(counter), hashlib.sha256()
    for _ in range(2):  # warm-up walk, then the measured one
        api.reset()
        url = "/v1/payments?limit=100"
        for _page in range(args.pages):
            body = api(client.get, url, headers=headers).get_data()
            digest.update(body)
            page = json.loads(body)
            if not page["has_more"]:
                break
            url = f"/v1/payments?limit=100&starting_after={page['data'][-1]['id']}"
    result["api_list_100"] = {**api.summary(), "sha256": digest.hexdigest()}

    portal = app.test_client()
    with app.app_context():
        login(portal, info["merchant_email"], PASSWORD)
    pages, digest = Meter(counter), hashlib.sha256()
    for _ in range(2):
        pages.reset()
        url = "/portal/payments"
        for _page in range(args.pages):
            html = pages(portal.get, url).get_data(as_text=True)
            digest.update(_CSRF.sub("", html).encode())
            found = re.search(r'href="([^"]*[?&](?:starting_)?after=[^"]+)"', html)
            if found is None:
                break
            url = found.group(1).replace("&amp;", "&")
    result["portal_payments_page"] = {**pages.summary(), "sha256": digest.hexdigest()}

    shop = pay.Api(client, info["shop_key"])
    ids = []
    with app.app_context():
        for n in range(args.presses + 20):
            body = {"checkout_id": f"press-{os.getpid()}-{n}", "buyer_info": {"email": "b@example.com", "name": "B"},
                    "payment_orders": [{"payment_order_id": f"o{i}", "seller_account": seller, "amount": "2.50",
                                        "currency": "USD", "description": f"Item {i}"}
                                       for i, seller in enumerate(info["shop_sellers"])]}
            created = client.post("/v1/payments", json=body, headers=shop.headers())
            assert created.status_code == 201, created.json
            ids.append(created.json["id"])
    buyer = app.test_client()
    page, post = Meter(counter), Meter(counter)
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waits
    for index, checkout in enumerate(ids):
        if index == 20:  # the first 20 presses warm up
            page.reset()
            post.reset()
            if profiler:
                profiler.enable()
        html = page(buyer.get, f"/checkout/{checkout}").get_data(as_text=True)
        token = _CSRF.search(html).group(1)
        answer = post(buyer.post, f"/checkout/{checkout}/pay", data={"csrf_token": token})
        assert answer.status_code == 303 and f"/checkout/{checkout}?paying=1" in answer.headers["Location"], answer
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    result["checkout_page"], result["checkout_pay_post"] = page.summary(), post.summary()
    result["press_cpu_ms_mean"] = round(result["checkout_page"]["cpu_ms_mean"]
                                        + result["checkout_pay_post"]["cpu_ms_mean"], 3)
    return result


def child(root: Path, command: str, args, **extra: str) -> dict:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", command, "--root", str(root),
            "--redis", args.redis, "--payments", str(args.payments), "--pages", str(args.pages),
            "--presses", str(args.presses)]
    for name, value in extra.items():
        argv += [f"--{name}", value]
    if args.profile and command == "measure" and root == ROOT:
        argv += ["--profile", str(args.profile.resolve())]
    output = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "LOG_LEVEL": "WARNING"})
    if output.returncode:
        raise RuntimeError(output.stderr[-4000:])
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--presses", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--other", type=Path, help="another code tree to measure alternately (e.g. main's)")
    parser.add_argument("--child", choices=("seed", "measure"))
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--redis")
    parser.add_argument("--info")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of this tree's presses to this file")
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(args.root))
        os.chdir(args.root)
        print(json.dumps(seed(args) if args.child == "seed" else measure(args)))
        return

    os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-pages-instance-"))
    sys.path.insert(0, str(ROOT))
    from harness import loadavg, machine, save

    from tests.conftest import POSTGRES_ADMIN_URL, drop_postgres_database, start_redis

    redis_process, args.redis = start_redis(Path(tempfile.mkdtemp(prefix="bench-pages-")), "redis")
    info = child(ROOT, "seed", args)
    runs = []
    try:
        trees = [ROOT] + ([args.other.resolve()] if args.other else [])
        for index in range(args.rounds):
            for root in trees if index % 2 == 0 else list(reversed(trees)):
                before = loadavg()
                one = child(root, "measure", args, info=json.dumps(info))
                one.update(load_before=before, load_after=loadavg())
                print(json.dumps(one), file=sys.stderr, flush=True)
                runs.append(one)
    finally:
        drop_postgres_database(POSTGRES_ADMIN_URL, info["name"])
        redis_process.stop()
    same = {kind: len({r[kind]["sha256"] for r in runs}) == 1 for kind in ("api_list_100", "portal_payments_page")}
    save("pages_cpu", {"machine": machine(), "payments": args.payments, "runs": runs, "same_bytes": same})


if __name__ == "__main__":
    main()
