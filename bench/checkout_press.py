"""Pressing Pay on the checkout page under load: the page load and its form post, driven by wrk.

    .venv/bin/python bench/checkout_press.py [--count 6000] [--seconds 10] [--connections 32] [--rounds 1] \
        [--workers 0] [--web "--workers 2 --threads 4"]

N checkouts are created through the API first (16 client threads). Then wrk runs a Lua script that chains the two
requests a buyer's browser makes: `GET /checkout/<id>`, then, from that page, the CSRF token and the session cookie,
`POST /checkout/<id>/pay` with them (a press counts when it is answered 303 to the checkout's `?paying=1` page).
Each wrk thread has its own share of the checkouts; a page answered is queued as a form post that the next request
of any of the thread's connections sends, so every connection always has a request in flight. A short warm-up run
with checkouts of its own comes first.

Printed per run: presses/s, wrk's latency percentiles over both kinds of request (p50/p99), the server's CPU per
press (gunicorn's processes, from /proc), the load average, and the check that every pressed checkout got exactly
one outbox row for the executor (`checkout.register`) and one "attempt" activity row, and no other checkout any:
the rows are counted against the presses wrk saw (at most one per connection more: presses in flight when wrk
stops). `--workers 0` (the default) measures the web server alone: the executor does not run, its outbox rows stay
pending; with `--workers N` the RQ workers register the sessions with the PSP sandbox during the run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests
from harness import cpu_seconds, loadavg, machine, running_system, save, wrk

LUA = """
local ids = {IDS}
THREADS = {}
function setup(thread)
  table.insert(THREADS, thread)
  thread:set("tid", #THREADS)
end
local posts = {}            -- pages answered, waiting to be posted (by whichever connection asks next)
local cursor = nil
pressed, pages, failed, exhausted = 0, 0, 0, 0
request = function()
  local post = table.remove(posts)
  if post then
    return wrk.format("POST", "/checkout/" .. post.id .. "/pay",
                      {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = post.cookie},
                      "csrf_token=" .. post.token)
  end
  cursor = (cursor or tid) + (cursor and THREAD_COUNT or 0)
  local id = ids[cursor]
  if id == nil then
    exhausted = exhausted + 1
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("GET", "/checkout/" .. id)
end
response = function(status, headers, body)
  local id = body:match('data%-checkout="([^"]+)"')
  if status == 200 and id then
    local token = body:match('name="csrf_token"[^>]*value="([^"]+)"')
    local cookie = headers["Set-Cookie"] and headers["Set-Cookie"]:match("^([^;]+)")
    if token and cookie then
      pages = pages + 1
      table.insert(posts, {id = id, token = token, cookie = cookie})
    else
      failed = failed + 1
    end
  elseif status == 303 and headers["Location"] and headers["Location"]:match("paying=1") then
    pressed = pressed + 1
  elseif status ~= 200 then
    failed = failed + 1
  end
end
function done(summary, latency, requests)
  local totals = {pressed = 0, pages = 0, failed = 0, exhausted = 0}
  for _, thread in ipairs(THREADS) do
    for name, _ in pairs(totals) do totals[name] = totals[name] + thread:get(name) end
  end
  for name, value in pairs(totals) do io.write(name .. ": " .. value .. "\\n") end
end
"""


def script_for(ids: list[str], threads: int, work: Path, name: str) -> Path:
    path = work / f"{name}.lua"
    path.write_text(LUA.replace("{IDS}", "{" + ",".join(f'"{i}"' for i in ids) + "}")
                    .replace("THREAD_COUNT", str(threads)))
    return path


def create_checkouts(base: str, api_key: str, sellers: list[str], count: int) -> list[str]:
    local: dict[int, requests.Session] = {}

    def create(n: int) -> str:
        import threading

        session = local.setdefault(threading.get_ident(), requests.Session())
        body = {"checkout_id": f"press-{n}", "buyer_info": {"email": "buyer@example.com", "name": "Bench Buyer"},
                "payment_orders": [{"payment_order_id": f"press-{n}-a", "seller_account": sellers[0],
                                    "amount": "3.15", "currency": "USD", "description": "A mug"},
                                   {"payment_order_id": f"press-{n}-b", "seller_account": sellers[1],
                                    "amount": "2.00", "currency": "USD"}]}
        response = session.post(f"{base}/v1/payments", json=body, headers={"Authorization": f"Bearer {api_key}"})
        response.raise_for_status()
        return response.json()["id"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(create, range(count)))


def rows_for(conn: psycopg.Connection, ids: list[str]) -> dict:
    """Outbox and activity rows of these checkouts, and how many of them were pressed once and never twice."""
    return dict(zip(("register_rows", "attempt_rows", "pressed_checkouts", "pressed_twice"), conn.execute(
        "SELECT (SELECT count(*) FROM outbox WHERE topic = 'checkout.register'"
        "         AND dedupe_key = ANY(SELECT 'register:' || i || ':1' FROM unnest(%(ids)s::text[]) i)),"
        "       (SELECT count(*) FROM payment_activity WHERE kind = 'attempt' AND payment_event_id = ANY(%(ids)s)),"
        "       (SELECT count(*) FROM payment_events WHERE id = ANY(%(ids)s) AND attempt = 1),"
        "       (SELECT count(*) FROM payment_events WHERE id = ANY(%(ids)s) AND attempt > 1)",
        {"ids": ids}).fetchone(), strict=True))


def press_run(name: str, url: str, ids: list[str], conn: psycopg.Connection, work: Path, seconds: int,
              connections: int, threads: int, server_pid: int) -> dict:
    before = loadavg()
    cpu_before = cpu_seconds(server_pid)
    result = wrk(url, seconds=seconds, connections=connections, threads=threads,
                 script=script_for(ids, threads, work, name))
    cpu = cpu_seconds(server_pid) - cpu_before
    counts = {line.split(":")[0]: int(line.split(":")[1]) for line in result["raw"].splitlines()
              if line.split(":")[0] in ("pressed", "pages", "failed", "exhausted")}
    rows = rows_for(conn, ids)
    pressed = counts.get("pressed", 0)
    out = {k: v for k, v in result.items() if k not in ("raw", "rps")}
    out.update(**counts, **rows, requests_per_second=result.get("rps"), presses_per_second=round(pressed / seconds, 1),
               server_cpu_ms_per_press=round(1000 * cpu / max(rows["pressed_checkouts"], 1), 3),
               load_before=before, load_after=loadavg())
    exact = rows["register_rows"] == rows["attempt_rows"] == rows["pressed_checkouts"] and not rows["pressed_twice"]
    out["one_register_row_per_press"] = exact and pressed <= rows["pressed_checkouts"] <= pressed + connections
    if counts.get("exhausted"):
        out["EXHAUSTED"] = "wrk ran out of checkouts: raise --count"
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=6000, help="checkouts to create (shared by every run)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="RQ workers (0: the executor does not run)")
    parser.add_argument("--web", default="--workers 2 --threads 4")
    args = parser.parse_args()
    with running_system(tuple(args.web.split()), workers=args.workers) as system:
        sellers = system.demo["DEMO_SELLER_ACCOUNTS"].split(",")
        ids = create_checkouts(system.web_url, system.demo["DEMO_API_KEY"], sellers, args.count)
        print(f"created {len(ids)} checkouts", file=sys.stderr)
        conn = psycopg.connect(system.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"),
                               autocommit=True)
        work = Path(tempfile.mkdtemp(prefix="bench-press-"))
        pid = system.processes["web"].popen.pid
        shares = [ids[: len(ids) // 10]] + [ids[len(ids) // 10:][i::args.rounds] for i in range(args.rounds)]
        warm = press_run("warm", system.web_url, shares[0], conn, work, 2, args.connections, args.threads, pid)
        runs = []
        for index, share in enumerate(shares[1:]):
            runs.append(press_run(f"run{index}", system.web_url, share, conn, work, args.seconds, args.connections,
                                  args.threads, pid))
            print(json.dumps(runs[-1]), file=sys.stderr)
        untouched = conn.execute("SELECT count(*) FROM payment_events WHERE attempt = 0").fetchone()[0]
        conn.close()
    pressed = sum(r["pressed_checkouts"] for r in [warm, *runs])
    save("checkout_press", {
        "machine": machine(), "gunicorn": args.web, "connections": args.connections, "seconds": args.seconds,
        "rq_workers": args.workers, "warm_up": warm, "runs": runs,
        "median": {key: statistics.median(r[key] for r in runs)
                   for key in ("presses_per_second", "p50_ms", "p99_ms", "server_cpu_ms_per_press")},
        "every_press_one_register_row": all(r["one_register_row_per_press"] for r in [warm, *runs]),
        "checkouts_not_pressed": untouched, "checkouts_pressed": pressed,
    })


if __name__ == "__main__":
    main()
