"""Buyers' live status: N concurrent WebSockets on ONE live-server process (LIVE_URL, as make run lays it out),
then status messages published on Redis exactly as the workers publish them after a commit; measures publish →
message received.

    .venv/bin/python bench/live_websockets.py [--sockets 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import redis
import requests
import websockets
from harness import machine, running_system, save

TOKEN = re.compile(r'data-token="([^"]+)"')


def checkouts(system, count: int) -> list[tuple[str, str]]:
    key, seller = system.demo["DEMO_API_KEY"], system.demo["DEMO_SELLER_ACCOUNTS"].split(",")[0]

    def one(n: int) -> tuple[str, str]:
        body = {"checkout_id": f"ws-{n}", "buyer_info": {"email": "buyer@example.com"},
                "payment_orders": [{"payment_order_id": f"ws-{n}", "seller_account": seller, "amount": "1.00",
                                    "currency": "USD"}]}
        checkout = requests.post(f"{system.web_url}/v1/payments", json=body, timeout=30,
                                 headers={"Authorization": f"Bearer {key}"}).json()["id"]
        page = requests.get(f"{system.web_url}/checkout/{checkout}", timeout=30).text
        return checkout, TOKEN.search(page).group(1)

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, range(count)))


async def measure(redis_url: str, ws_base: str, targets: list[tuple[str, str]], rounds: int) -> dict:
    latencies: list[float] = []
    opened = 0

    async def listen(checkout: str, token: str, ready: asyncio.Event, done: asyncio.Event) -> None:
        nonlocal opened
        async with websockets.connect(f"{ws_base}/ws/checkouts/{checkout}?token={token}", open_timeout=60,
                                      ping_interval=None, max_queue=None) as socket:
            json.loads(await socket.recv())  # the current status, sent on connect
            opened += 1
            if opened == len(targets):
                ready.set()
            while not done.is_set():
                try:
                    message = json.loads(await asyncio.wait_for(socket.recv(), timeout=1))
                except TimeoutError:
                    continue
                if "sent" in message:
                    latencies.append((time.time() - message["sent"]) * 1000)

    ready, done = asyncio.Event(), asyncio.Event()
    started = time.monotonic()
    tasks = [asyncio.create_task(listen(c, t, ready, done)) for c, t in targets]
    await asyncio.wait_for(ready.wait(), timeout=300)
    connect_seconds = time.monotonic() - started
    publisher = redis.Redis.from_url(redis_url)
    for round_ in range(rounds):
        with publisher.pipeline(transaction=False) as pipe:
            for checkout, _ in targets:
                pipe.publish(f"checkout:{checkout}", json.dumps({"checkout": checkout, "state": "pending",
                                                                 "label": "Pending", "round": round_,
                                                                 "sent": time.time()}))
            pipe.execute()
        await asyncio.sleep(2)
    done.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    quantiles = statistics.quantiles(latencies, n=100)
    return {"sockets": len(targets), "connect_all_seconds": round(connect_seconds, 1),
            "messages_expected": len(targets) * rounds, "messages_received": len(latencies),
            "publish_to_message_ms": {"p50": round(quantiles[49], 1), "p99": round(quantiles[98], 1),
                                      "max": round(max(latencies), 1)}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    live = ("--workers", "1", "--threads", str(args.sockets + 100), "--worker-connections", str(args.sockets * 2))
    with running_system(("--workers", "2", "--threads", "4"), live_args=live) as system:
        targets = checkouts(system, args.sockets)
        result = asyncio.run(measure(system.env["REDIS_URL"], system.env["LIVE_URL"], targets, args.rounds))
    save("live_websockets", {"machine": machine(), "gunicorn": " ".join(live), **result})


if __name__ == "__main__":
    main()
