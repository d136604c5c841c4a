"""`POST /v1/payments` (two orders) under load from wrk, next to a no-op endpoint in the same run.

    .venv/bin/python bench/payin_api.py [--seconds 30] [--connections 32] [--web "--workers 2 --threads 8"]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from harness import machine, running_system, save, wrk

LUA = """
local counter = 0
function setup(thread) thread:set("tid", tostring(math.random(1, 2^30))) end
request = function()
  counter = counter + 1
  local cid = "bench_" .. tid .. "_" .. counter
  local body = '{"checkout_id":"' .. cid .. '","buyer_info":{"email":"buyer@example.com","name":"Bench Buyer"},'
    .. '"payment_orders":[{"payment_order_id":"' .. cid .. '_a","seller_account":"SELLER_A","amount":"3.15",'
    .. '"currency":"USD"},{"payment_order_id":"' .. cid .. '_b","seller_account":"SELLER_B","amount":"2.00",'
    .. '"currency":"USD"}]}'
  return wrk.format("POST", "/v1/payments", {["Authorization"] = "Bearer API_KEY",
                                             ["Content-Type"] = "application/json"}, body)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--web", default="--workers 2 --threads 8")
    args = parser.parse_args()
    with running_system(tuple(args.web.split())) as system:
        sellers = system.demo["DEMO_SELLER_ACCOUNTS"].split(",")
        script = Path(tempfile.mkdtemp()) / "create_payment.lua"
        script.write_text(LUA.replace("SELLER_A", sellers[0]).replace("SELLER_B", sellers[1])
                          .replace("API_KEY", system.demo["DEMO_API_KEY"]))
        wrk(system.web_url, seconds=5, connections=args.connections, script=script)  # warm-up
        payments = wrk(system.web_url, seconds=args.seconds, connections=args.connections, script=script)
        noop = wrk(f"{system.web_url}/healthz", seconds=args.seconds, connections=args.connections)
    save("payin_api", {
        "machine": machine(), "gunicorn": args.web, "connections": args.connections, "seconds": args.seconds,
        "create_payment": {k: v for k, v in payments.items() if k != "raw"},
        "noop_healthz": {k: v for k, v in noop.items() if k != "raw"},
        "ratio_create_to_noop": round(payments["rps"] / noop["rps"], 3),
    })


if __name__ == "__main__":
    main()
