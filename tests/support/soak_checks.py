"""The end of a fault soak: bring everything to rest, then compare every payment, refund and payout with the PSP
(through the SDK, as an auditor would), count double charges, refunds and payouts, verify the ledger and
reconcile the days the soak touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import requests

from tests.conftest import create_postgres_database, drop_postgres_database
from tests.support.processes import ROOT
from tests.support.sandbox import advance_clock, clear_faults, set_faults, stripe_client
from tests.support.soak import SoakConfig, SoakRun, add_sellers, one_wave, pay_out, refund_due, soak_system, statuses

FINAL_PAYMENT = ("SUCCESS", "FAILED")
FINAL_REFUND = ("succeeded", "failed", "canceled")
FINAL_PAYOUT = ("paid", "failed", "canceled")
ABANDONED = ("declined", "3ds_failed")  # the session stays open until it expires


def backlog(run: SoakRun) -> dict[str, int]:
    (row,) = run.query(
        "SELECT (SELECT count(*) FROM outbox WHERE status = 'pending'),"
        " (SELECT count(*) FROM psp_events WHERE processed_at IS NULL),"
        " (SELECT count(*) FROM refunds WHERE status NOT IN ('succeeded', 'failed', 'canceled')),"
        " (SELECT count(*) FROM payouts WHERE status NOT IN ('paid', 'failed', 'canceled'))")
    return dict(zip(("outbox", "inbox", "refunds_open", "payouts_open"), row, strict=True))


def _settled(run: SoakRun, abandoned_too: bool) -> bool:
    wanted = [p.checkout_id for p in run.payments if abandoned_too or p.kind not in ABANDONED]
    found = statuses(run, wanted)
    open_work = backlog(run)
    return (all(found.get(c) in FINAL_PAYMENT for c in wanted) and open_work["refunds_open"] == 0
            and open_work["payouts_open"] == 0 and open_work["outbox"] == 0 and open_work["inbox"] == 0)


def converge(run: SoakRun, pool, timeout: float) -> float:
    """Faults off; move the PSP clock until bank transfers, refunds and payouts are done, then past the sessions'
    expiry (abandoned checkouts fail). Returns the seconds it took: the sweeper and relay do the work."""
    started = time.monotonic()
    deadline = started + timeout
    clear_faults(run.system.psp_url)
    paid_out = False
    for abandoned_too in (False, True):
        if abandoned_too:
            advance_clock(run.system.psp_url, 86_400 + 60)
        while not _settled(run, abandoned_too):
            if time.monotonic() > deadline:
                raise RuntimeError(f"not at rest after {timeout}s: {backlog(run)}, "
                                   f"{Counter(statuses(run, [p.checkout_id for p in run.payments]).values())}")
            refund_due(run, pool, wait=0)
            if not abandoned_too:
                advance_clock(run.system.psp_url, 60)
                if not paid_out and backlog(run)["payouts_open"] == 0:
                    pay_out(run, "final")  # what became available after the last wave
                    paid_out = True
            time.sleep(2)
    return time.monotonic() - started


def _flask(run: SoakRun, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env={**os.environ, **run.system.env}, capture_output=True, text=True)


def _metadata(psp_object, key: str) -> str:
    return psp_object.metadata.to_dict().get(key, "") if psp_object.metadata else ""


def verify(run: SoakRun) -> dict:
    """Every check; `problems` lists what failed (empty for a clean soak)."""
    client = stripe_client(run.system.psp_url, max_network_retries=3)
    problems: list[str] = []
    ours = statuses(run, [p.checkout_id for p in run.payments])
    sessions: dict[str, list] = defaultdict(list)
    for session in client.v1.checkout.sessions.list({"limit": 100}).auto_paging_iter():
        sessions[session.client_reference_id].append(session)
    double_charges = 0
    for payment in run.payments:
        status, found = ours.get(payment.checkout_id), sessions.get(payment.checkout_id, [])
        paid = [s for s in found if s.payment_status == "paid"]
        double_charges += max(0, len(paid) - 1)
        if status != payment.expected:
            problems.append(f"{payment.checkout_id} ({payment.kind}) is {status}, expected {payment.expected}")
        if len(found) != 1:
            problems.append(f"{payment.checkout_id} has {len(found)} PSP sessions")
        if (status == "SUCCESS") != bool(paid):
            problems.append(f"{payment.checkout_id} is {status} here, paid={bool(paid)} at the PSP")
    (charged_twice,) = run.query("SELECT count(*) FROM (SELECT payment_event_id FROM psp_charges"
                                 " GROUP BY payment_event_id HAVING count(*) > 1) twice")[0]
    double_charges += charged_twice

    psp_refunds: dict[str, list] = defaultdict(list)
    for refund in client.v1.refunds.list({"limit": 100}).auto_paging_iter():
        psp_refunds[_metadata(refund, "refund_id")].append(refund)
    refund_rows = run.query("SELECT id, payment_event_id, status, psp_refund_id FROM refunds")
    per_checkout = Counter(row[1] for row in refund_rows)
    double_refunds = sum(max(0, len(found) - 1) for found in psp_refunds.values())
    double_refunds += sum(count - 1 for count in per_checkout.values() if count > 1)
    for refund_id, _, status, psp_id in refund_rows:
        found = psp_refunds.get(refund_id, [])
        if not found or found[0].id != psp_id or found[0].status != status:
            problems.append(f"refund {refund_id} is {status} ({psp_id}), the PSP has "
                            f"{[(r.id, r.status) for r in found]}")

    payout_rows = run.query("SELECT id, status, psp_account_id, psp_transfer_id, psp_payout_id FROM payouts")
    transfers: dict[str, list] = defaultdict(list)
    for transfer in client.v1.transfers.list({"limit": 100}).auto_paging_iter():
        transfers[transfer.transfer_group or ""].append(transfer)
    psp_payouts: dict[str, list] = defaultdict(list)
    for account in {row[2] for row in payout_rows}:
        for payout in client.v1.payouts.list({"limit": 100}, {"stripe_account": account}).auto_paging_iter():
            psp_payouts[_metadata(payout, "payout_id")].append(payout)
    double_payouts = sum(max(0, len(found) - 1) for found in (*transfers.values(), *psp_payouts.values()))
    for payout_id, status, _, transfer_id, psp_id in payout_rows:
        found = psp_payouts.get(payout_id, [])
        if [t.id for t in transfers.get(payout_id, [])] != ([transfer_id] if transfer_id else []):
            problems.append(f"payout {payout_id}: transfer {transfer_id}, the PSP has {transfers.get(payout_id)}")
        if psp_id is None and not found and status == "canceled":
            continue  # stopped before it reached the PSP
        if not found or found[0].id != psp_id or found[0].status != status:
            problems.append(f"payout {payout_id} is {status} ({psp_id}), the PSP has "
                            f"{[(p.id, p.status) for p in found]}")

    ledger = _flask(run, "ledger", "verify")
    if ledger.returncode != 0:
        problems.append(f"flask ledger verify: {ledger.stdout[-2000:]}{ledger.stderr[-2000:]}")
    reconciled = {}
    for day in soak_days(run):
        result = _flask(run, "reconcile", "run", "--date", day.isoformat(), "--json")
        summary = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
        reconciled[day.isoformat()] = {"exit": result.returncode, "mismatches": len(summary.get("mismatches", []))}
        if result.returncode != 0:
            problems.append(f"reconciliation of {day}: {result.stdout[-2000:]}{result.stderr[-1000:]}")
    problems += [f"{name}: {count}" for name, count in (("double charges", double_charges),
                 ("double refunds", double_refunds), ("double payouts", double_payouts)) if count]
    return {"double_charges": double_charges, "double_refunds": double_refunds, "double_payouts": double_payouts,
            "payment_statuses": dict(Counter(ours.values())),
            "refund_statuses": dict(Counter(r[2] for r in refund_rows)),
            "payout_statuses": dict(Counter(r[1] for r in payout_rows)), "reconciliation": reconciled,
            "ledger_verify_ok": ledger.returncode == 0, "problems": problems}


def soak_days(run: SoakRun) -> list[date]:
    """The UTC days the soak's payments were made on (one, unless it ran over midnight)."""
    ((first, last),) = run.query("SELECT min(created_at)::date, max(created_at)::date FROM payment_events")
    return [first] if first == last else [first, last]


def run_soak(config: SoakConfig, work: Path, admin_url: str, log=print) -> dict:
    """The whole soak on a fresh database: load under faults in waves, converge, verify. Returns the figures."""
    database, database_url = create_postgres_database(admin_url)
    try:
        with soak_system(config, work, admin_url, database, database_url) as (system, chaos):
            run = SoakRun(system, database_url)
            add_sellers(run)
            hooks = {"drop_rate": config.webhook_drop_rate, "duplicate_rate": config.webhook_duplicate_rate,
                     "delay_rate": config.webhook_delay_rate, "max_delay_seconds": 3}
            set_faults(system.psp_url, {"seed": config.chaos.seed, "webhooks": hooks, "api": [
                {"path_prefix": "/v1/", "latency_ms": 20, "error_rate": config.api_error_rate,
                 "timeout_seconds": 1}]})
            started = time.monotonic()
            with ThreadPoolExecutor(config.clients) as pool:
                with chaos:
                    for first in range(0, config.count, config.wave):
                        one_wave(run, pool, range(first, min(first + config.wave, config.count)))
                        log(f"{len(run.payments)} payments, faults so far {dict(chaos.counts)}")
                load_seconds = time.monotonic() - started
                injected = requests.get(f"{system.psp_url}/_sandbox/faults/injected", timeout=10).json()
                converge_seconds = converge(run, pool, config.converge_timeout)
            figures = verify(run)
    finally:
        drop_postgres_database(admin_url, database)
    return {"payments": len(run.payments), "kinds": dict(Counter(p.kind for p in run.payments)),
            "load_seconds": round(load_seconds, 1), "converge_seconds": round(converge_seconds, 1),
            "process_faults": dict(chaos.counts), "psp_faults": injected, **figures, **run.counts}
