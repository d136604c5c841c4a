"""`POST /webhooks/psp`: signed events from wrk, each one new, side by side with its floor in the same run.

    .venv/bin/python bench/payin_webhooks.py [--seconds 15] [--connections 32] [--rounds 3] \
        [--web "--workers 2 --threads 4"] [--worker-class gthread]

The floor (`bench/floor_webhooks.py`) verifies the signature and inserts the same inbox row, nothing else; it
runs under the same gunicorn settings against the same database. Each wrk run gets its own file of events,
signed just before it (signatures stay valid for 300 s) with ids that start with the run's prefix; each wrk
thread sends its own share of the file, so no event repeats. After each run the inbox rows of the run are
counted against the 200 answers wrk saw. Printed: every run, medians, and the ratio gateway/floor.
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

from psp_sandbox.ids import new_id
from tests.support.system import WEBHOOK_SECRET

LUA = """
THREADS = {}
function setup(thread)
  table.insert(THREADS, thread)
  thread:set("tid", #THREADS)
  thread:set("nthreads", NTHREADS)
end
local events = {}
local index = 0
ok = 0
function init(args)
  local n = 0
  for line in io.lines("EVENTS_FILE") do
    n = n + 1
    if n % nthreads == tid - 1 then
      local tab = string.find(line, "\\t")
      table.insert(events, {string.sub(line, 1, tab - 1), string.sub(line, tab + 1)})
    end
  end
end
request = function()
  index = index + 1
  local event = events[(index - 1) % #events + 1]
  return wrk.format("POST", "/webhooks/psp", {["Stripe-Signature"] = event[1],
                                              ["Content-Type"] = "application/json"}, event[2])
end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(THREADS) do total = total + thread:get("ok") end
  io.write("ok: " .. total .. "\\n")
end
"""


def signed_events(run: str, count: int) -> str:
    now = int(time.time())
    lines = []
    for _ in range(count):
        event = {"id": new_id(f"evt_{run}"), "object": "event", "type": "payment_intent.created",
                 "api_version": "2026-06-24", "created": now, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None},
                 "data": {"object": {"id": new_id("pi"), "object": "payment_intent",
                                     "amount": 515, "currency": "usd", "status": "requires_payment_method"}}}
        payload = json.dumps(event, separators=(",", ":"))
        signature = hmac.new(WEBHOOK_SECRET.encode(), f"{now}.{payload}".encode(), hashlib.sha256).hexdigest()
        lines.append(f"t={now},v1={signature}\t{payload}")
    return "\n".join(lines) + "\n"


def load_run(name: str, url: str, database_url: str, work: Path, seconds: int, connections: int, events: int,
             server_pid: int) -> dict:
    run = f"{name}{secrets.token_hex(4)}"
    events_file = work / f"{run}.tsv"
    events_file.write_text(signed_events(run, events))
    script = work / f"{run}.lua"
    threads = 2
    script.write_text(LUA.replace("EVENTS_FILE", str(events_file)).replace("NTHREADS", str(threads)))
    before, cpu_before = loadavg(), cpu_seconds(server_pid)
    result = wrk(url, seconds=seconds, connections=connections, script=script, threads=threads)
    cpu = cpu_seconds(server_pid) - cpu_before
    ok = next((int(line.split()[1]) for line in result["raw"].splitlines() if line.startswith("ok:")), 0)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT count(*) FROM psp_events WHERE id LIKE %s", (f"evt\\_{run}\\_%",)).fetchone()[0]
    out = {k: v for k, v in result.items() if k != "raw"}
    out.update(ok_200=ok, rows=rows, load_before=before, load_after=loadavg(),
               server_cpu_ms_per_request=round(1000 * cpu / max(rows, 1), 3))
    if not ok <= rows <= ok + connections or result.get("requests", 0) >= events:
        out["ROWS_MISMATCH_OR_EVENTS_EXHAUSTED"] = True
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--web", default="--workers 2 --threads 4")
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--events", type=int, default=60_000, help="events signed for each wrk run")
    args = parser.parse_args()
    web_args = ("--worker-class", args.worker_class, *args.web.split())
    with running_system(web_args) as system:
        database_url = system.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        work = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
        floor_env = {"FLOOR_DATABASE_URL": database_url, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
        with floor_server("floor_webhooks", web_args, floor_env) as (floor_url, floor_pid):
            targets = {"floor": floor_url, "gateway": system.web_url}
            pids = {"floor": floor_pid, "gateway": system.processes["web"].popen.pid}

            def run(name: str, url: str, seconds: int) -> dict:
                warm = name.endswith("warm")
                return load_run(name, url, database_url, work, seconds, args.connections,
                                20_000 if warm else args.events, pids[name.removesuffix("warm")])

            rounds = side_by_side(run, targets, args.rounds, args.seconds, warm_seconds=3)

    save("payin_webhooks", {
        "machine": machine(), "gunicorn": " ".join(web_args), "connections": args.connections,
        "seconds": args.seconds, "rounds": rounds, **side_by_side_summary(rounds),
    })

if __name__ == "__main__":
    main()
