"""Scale-out across hosts: two web hosts and two worker hosts (network namespaces of their own, production settings
from the environment only) behind a load balancer, against one PostgreSQL and one Redis. One web host and one
worker host (the scheduler's leader) die mid-load; every payment still finishes, buyers' WebSockets on the other
web host hear about payments the workers applied, and the standby scheduler takes over."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import redis
import requests
from websockets.sync.client import connect

from tests.conftest import create_postgres_database, drop_postgres_database, unavailable
from tests.support import netns
from tests.support.cluster import Cluster, cluster
from tests.support.processes import python
from tests.support.sandbox import stripe_client
from tests.support.soak import CSRF, retried
from workers.scheduler import LEASE_KEY

COUNT = 40
TOKEN = re.compile(r'data-token="([^"]+)"')


@pytest.fixture
def hosts(postgres_server, tmp_path):
    reason = netns.available()
    if reason:
        unavailable(reason)
    name, _ = create_postgres_database(postgres_server)
    try:
        with netns.network(["web1", "web2", "worker1", "worker2"]) as net, cluster(net, tmp_path, name) as found:
            yield found
    finally:
        drop_postgres_database(postgres_server, name)


def _query(found: Cluster, sql: str, *args) -> list[tuple]:
    with psycopg.connect(found.database_url, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall()


def _lease_holder(found: Cluster) -> str:
    holder = redis.Redis.from_url(found.redis_url).get(LEASE_KEY)
    return holder.decode() if holder else ""


class Buyer:
    """A buyer's page listening on a WebSocket opened on one chosen web host."""

    def __init__(self, ws_base: str, checkout: str, token: str) -> None:
        self.states: list[str] = []
        self.url = f"{ws_base}/ws/checkouts/{checkout}?token={token}"
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        with connect(self.url, open_timeout=30) as socket:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and "paid" not in self.states:
                message = json.loads(socket.recv(timeout=60))
                self.states.append(message.get("state", message.get("type", "")))


def test_two_web_and_two_worker_hosts_lose_one_of_each_mid_load(hosts: Cluster):
    found = hosts
    leader = found.start_on("worker1", "worker1-scheduler", python("-m", "workers", "cron"))
    retried_wait(lambda: f":{leader.popen.pid}:" in _lease_holder(found), "worker1's scheduler to lead")
    standby = found.start_on("worker2", "worker2-scheduler", python("-m", "workers", "cron"))
    api = {"Authorization": f"Bearer {found.demo['DEMO_API_KEY']}"}
    sellers = found.demo["DEMO_SELLER_ACCOUNTS"].split(",")
    buyers: list[Buyer] = []
    created: list[str] = []
    local = threading.local()

    def http() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session

    def one_payment(n: int) -> str:
        body = {"checkout_id": f"scale-{n}", "buyer_info": {"email": "buyer@example.com"},
                "payment_orders": [{"payment_order_id": f"scale-{n}-a", "seller_account": sellers[n % 2],
                                    "amount": f"{5 + n}.00", "currency": "USD"}]}
        checkout = retried(lambda: http().post(f"{found.lb_url}/v1/payments", json=body, timeout=10,
                                               headers={**api, "Idempotency-Key": f"scale-{n}"}),
                           lambda r: r.status_code in (200, 201), f"create {n}").json()["id"]
        created.append(checkout)

        def press() -> requests.Response:
            page = http().get(f"{found.lb_url}/checkout/{checkout}", timeout=10)
            if n % 4 == 0 and (token := TOKEN.search(page.text)):  # this buyer's socket is on web2
                buyers.append(Buyer(found.web_url("web2").replace("http", "ws"), checkout, token.group(1)))
            csrf = CSRF.search(page.text)
            return page if csrf is None else http().post(f"{found.lb_url}/checkout/{checkout}/pay", timeout=10,
                                                         data={"csrf_token": csrf.group(1)}, allow_redirects=False)

        retried(press, lambda r: r.status_code in (302, 303), f"press Pay on {checkout}")
        retried_wait(lambda: _query(found, "SELECT psp_session_id FROM payment_events WHERE id = %s",
                                    checkout)[0][0], f"{checkout} registered with the PSP")
        session = _query(found, "SELECT psp_session_id FROM payment_events WHERE id = %s", checkout)[0][0]
        retried(lambda: http().post(f"{found.psp_url}/_sandbox/checkout/sessions/{session}/pay", timeout=10,
                                    json={"method": "card", "card_number": "4242424242424242"}),
                lambda r: r.status_code == 200, f"pay {checkout}")
        return checkout

    with ThreadPoolExecutor(4) as pool:
        results = [pool.submit(one_payment, n) for n in range(COUNT)]
        retried_wait(lambda: len(created) >= COUNT // 3, "a third of the payments")
        found.host("web1").crash()
        found.host("worker1").crash()  # its RQ worker and the leading scheduler
        checkouts = [result.result() for result in results]

    def statuses() -> dict[str, int]:
        return dict(_query(found, "SELECT status, count(*) FROM payment_events WHERE id = ANY(%s) GROUP BY status",
                           checkouts))

    retried_wait(lambda: statuses() == {"SUCCESS": COUNT}, f"all {COUNT} payments to succeed", timeout=180)
    assert len(set(checkouts)) == COUNT
    listed = stripe_client(found.psp_url).v1.checkout.sessions.list({"limit": 100}).auto_paging_iter()
    per_checkout = Counter(s.client_reference_id for s in listed if s.client_reference_id in set(checkouts))
    assert set(per_checkout.values()) == {1} and len(per_checkout) == COUNT, "a checkout has two PSP sessions"
    retried_wait(lambda: f":{standby.popen.pid}:" in _lease_holder(found), "the standby scheduler to take over")
    assert buyers, "no buyer listened on web2: the test proves nothing about WebSockets across hosts"
    for buyer in buyers:
        buyer.thread.join(60)
        assert buyer.states[-1:] == ["paid"], (buyer.url, buyer.states)
    for host in ("web1", "web2", "worker1", "worker2"):
        assert not found.instance(host).exists(), f"{host} wrote under its instance folder"


def retried_wait(check, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (psycopg.Error, redis.RedisError, IndexError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")
