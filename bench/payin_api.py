"""`POST /v1/payments` (two orders) under load from wrk, side by side with its floor in the same run.

    .venv/bin/python bench/payin_api.py [--seconds 20] [--connections 32] [--rounds 3] \
        [--web "--workers 2 --threads 4"] [--worker-class gthread] [--idempotency-key]

The floor (`bench/floor_payin.py`) is the same stack doing the same work with nothing else; it runs under the
same gunicorn settings against the same database. Each round loads the floor and the gateway one after the other
(the order alternates between rounds), every request a checkout id never used before (each wrk run gets its own
prefix); after each run the rows in `payment_events` are counted against the 201 answers wrk saw. Printed: every
run, the medians of the rounds and the ratio gateway/floor of each round and its median.

`--idempotency-key`: every request also sends an `Idempotency-Key` never used before (the checkout id with a
prefix: unique per run), as merchants' SDKs do. The floor has no idempotency keys and ignores the header.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import tempfile
from pathlib import Path

import psycopg
from harness import (
    cpu_seconds,
    floor_server,
    loadavg,
    machine,
    running_system,
    save,
    side_by_side,
    side_by_side_summary,
    wrk,
)

LUA = """
THREADS = {}
function setup(thread)
  table.insert(THREADS, thread)
  thread:set("tid", tostring(#THREADS))
end
local counter = 0
created = 0
request = function()
  counter = counter + 1
  local cid = "RUN_" .. tid .. "_" .. counter
  local body = '{"checkout_id":"' .. cid .. '","buyer_info":{"email":"buyer@example.com","name":"Bench Buyer"},'
    .. '"payment_orders":[{"payment_order_id":"' .. cid .. '_a","seller_account":"SELLER_A","amount":"3.15",'
    .. '"currency":"USD"},{"payment_order_id":"' .. cid .. '_b","seller_account":"SELLER_B","amount":"2.00",'
    .. '"currency":"USD"}]}'
  local headers = {["Authorization"] = "Bearer API_KEY", ["Content-Type"] = "application/json"}
  if SEND_KEY then headers["Idempotency-Key"] = "key-" .. cid end
  return wrk.format("POST", "/v1/payments", headers, body)
end
response = function(status, headers, body)
  if status == 201 then created = created + 1 end
end
function done(summary, latency, requests)
  -- each thread counts in its own Lua state: read the counts back from the threads setup() kept.
  local total = 0
  for _, thread in ipairs(THREADS) do total = total + thread:get("created") end
  io.write("created: " .. total .. "\\n")
end
"""


def script_for(run: str, sellers: list[str], api_key: str, work: Path, send_key: bool) -> Path:
    """A wrk script whose checkout ids (and Idempotency-Keys, if sent) all start with `run` (unique per wrk
    invocation)."""
    text = (LUA.replace("RUN", run).replace("SELLER_A", sellers[0]).replace("SELLER_B", sellers[1])
            .replace("API_KEY", api_key).replace("SEND_KEY", "true" if send_key else "false"))
    path = work / f"{run}.lua"
    path.write_text(text)
    return path


def load_run(name: str, url: str, database_url: str, sellers: list[str], api_key: str, work: Path,
             seconds: int, connections: int, server_pid: int, send_key: bool) -> dict:
    run = f"{name}{secrets.token_hex(4)}"
    before = loadavg()
    cpu_before = cpu_seconds(server_pid)
    script = script_for(run, sellers, api_key, work, send_key)
    result = wrk(url, seconds=seconds, connections=connections, script=script)
    cpu = cpu_seconds(server_pid) - cpu_before
    created = next((int(line.split()[1]) for line in result["raw"].splitlines() if line.startswith("created:")), 0)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT count(*) FROM payment_events WHERE checkout_id LIKE %s",
                            (run + "\\_%",)).fetchone()[0]
        keys = conn.execute("SELECT count(*) FROM idempotency_keys WHERE key LIKE %s AND state = 'done'",
                            ("key-" + run + "\\_%",)).fetchone()[0]
    out = {k: v for k, v in result.items() if k != "raw"}
    if send_key and name.removesuffix("warm") == "gateway":
        out["keys_stored"] = keys  # one per checkout: every request took the keyed path
        if keys != rows:
            out["KEYS_MISMATCH"] = True
    # Requests still in flight when wrk stops are committed but not counted by wrk: at most one per connection.
    out.update(created_201=created, rows=rows, load_before=before, load_after=loadavg(),
               server_cpu_ms_per_request=round(1000 * cpu / max(rows, 1), 3))
    if not created <= rows <= created + connections:
        out["ROWS_MISMATCH"] = True
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--web", default="--workers 2 --threads 4")
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--idempotency-key", action="store_true",
                        help="send a new Idempotency-Key with every request (the floor ignores it)")
    args = parser.parse_args()
    web_args = ("--worker-class", args.worker_class, *args.web.split())
    with running_system(web_args) as system:
        database_url = system.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        sellers = system.demo["DEMO_SELLER_ACCOUNTS"].split(",")
        api_key = system.demo["DEMO_API_KEY"]
        with psycopg.connect(database_url) as conn:
            merchant_id = conn.execute("SELECT merchant_id FROM seller_accounts WHERE id = %s",
                                       (sellers[0],)).fetchone()[0]
        secrets_file = json.loads((Path(system.env["INSTANCE_PATH"]) / "dev-secrets.json").read_text())
        floor_env = {"FLOOR_DATABASE_URL": database_url, "FLOOR_MERCHANT_ID": merchant_id,
                     "DATA_ENCRYPTION_KEY": os.environ.get("DATA_ENCRYPTION_KEY")
                     or secrets_file["DATA_ENCRYPTION_KEY"],
                     "PUBLIC_BASE_URL": system.env["PUBLIC_BASE_URL"]}
        work = Path(tempfile.mkdtemp(prefix="bench-payin-"))
        with floor_server("floor_payin", web_args, floor_env) as (floor_url, floor_pid):
            targets = {"floor": floor_url, "gateway": system.web_url}
            pids = {"floor": floor_pid, "gateway": system.processes["web"].popen.pid}
            rounds = side_by_side(
                lambda name, url, seconds: load_run(name, url, database_url, sellers, api_key, work, seconds,
                                                    args.connections, pids[name.removesuffix("warm")],
                                                    args.idempotency_key),
                targets, args.rounds, args.seconds, warm_seconds=5)

    save("payin_api", {
        "machine": machine(), "gunicorn": " ".join(web_args), "connections": args.connections,
        "seconds": args.seconds, "idempotency_key": args.idempotency_key, "rounds": rounds,
        **side_by_side_summary(rounds),
        "rows_match_requests": all("ROWS_MISMATCH" not in r[n] for r in rounds for n in ("floor", "gateway")),
    })

if __name__ == "__main__":
    main()
