"""`POST /webhooks/psp`: signed events from wrk, each one new (verified, stored once, a worker woken).

    .venv/bin/python bench/payin_webhooks.py [--seconds 20] [--connections 32] [--web "--workers 2 --threads 8"]

The events are signed up front with the system's webhook secret (signatures stay valid for 300 s, so
a run must start within that) and cycled through by wrk's Lua script; enough are made that none repeats.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import secrets
import tempfile
import time
from pathlib import Path

from harness import machine, running_system, save, wrk

from tests.support.system import WEBHOOK_SECRET

LUA = """
local events = {}
local index = 0
function init(args)
  for line in io.lines("EVENTS_FILE") do
    local tab = string.find(line, "\\t")
    table.insert(events, {string.sub(line, 1, tab - 1), string.sub(line, tab + 1)})
  end
  index = math.random(1, #events)
end
request = function()
  index = index % #events + 1
  local event = events[index]
  return wrk.format("POST", "/webhooks/psp", {["Stripe-Signature"] = event[1],
                                              ["Content-Type"] = "application/json"}, event[2])
end
"""


def signed_events(count: int) -> str:
    now = int(time.time())
    lines = []
    for _ in range(count):
        event = {"id": "evt_" + secrets.token_hex(12), "object": "event", "type": "payment_intent.created",
                 "api_version": "2026-06-24", "created": now, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None},
                 "data": {"object": {"id": "pi_" + secrets.token_hex(12), "object": "payment_intent",
                                     "amount": 515, "currency": "usd", "status": "requires_payment_method"}}}
        payload = json.dumps(event, separators=(",", ":"))
        signature = hmac.new(WEBHOOK_SECRET.encode(), f"{now}.{payload}".encode(), hashlib.sha256).hexdigest()
        lines.append(f"t={now},v1={signature}\t{payload}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--web", default="--workers 2 --threads 8")
    parser.add_argument("--events", type=int, default=120_000)
    args = parser.parse_args()
    with running_system(tuple(args.web.split())) as system:
        work = Path(tempfile.mkdtemp())
        events_file = work / "events.tsv"
        events_file.write_text(signed_events(args.events))
        script = work / "webhooks.lua"
        script.write_text(LUA.replace("EVENTS_FILE", str(events_file)))
        result = wrk(system.web_url, seconds=args.seconds, connections=args.connections, script=script)
    save("payin_webhooks", {"machine": machine(), "gunicorn": args.web, "connections": args.connections,
                            "seconds": args.seconds, "webhooks": {k: v for k, v in result.items() if k != "raw"}})


if __name__ == "__main__":
    main()
