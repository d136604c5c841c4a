"""Work that falls due on the sandbox clock: funds becoming available, sessions expiring, bank
transfers settling, payouts progressing (and bounced by the bank), connected accounts' scheduled payouts, refunds
bouncing. Run by a background thread every tick and at once when the clock is advanced."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from psp_sandbox.context import Sandbox
from psp_sandbox.resources import accounts, events, ledger, payments, payouts, refunds, schedules, sessions

HANDLERS: dict[str, Callable[[Sandbox, str], object]] = {
    "session_expires": sessions.expire_if_due,
    "bank_transfer_settles": payments.settle_bank_transfer,
    "payout_in_transit": payouts.in_transit,
    "payout_arrives": payouts.arrive,
    "payout_returns": payouts.bank_returns,
    schedules.TIMER: schedules.run,
    "refund_fails": refunds.fail,
}

_run_lock = threading.Lock()


def run_due(sb: Sandbox) -> int:
    """Handle every timer due now, oldest first, including timers that handling creates; returns how many."""
    handled = 0
    with _run_lock:
        while True:
            with sb.store.write():
                due = sb.store.due_timers(sb.clock.now())
                credited: set[str] = set()
                for timer_id, kind, object_id in due:
                    if kind == "funds_available":
                        made_available = ledger.make_available(sb, object_id)
                        if made_available is not None:
                            credited.add(made_available.account)
                    else:
                        HANDLERS[kind](sb, object_id)
                    sb.store.delete_timer(timer_id)
                # One balance.available per account and run, as Stripe batches them.
                for account in credited:
                    _announce_balance(sb, account)
            handled += len(due)
            if not due:
                return handled


def _announce_balance(sb: Sandbox, account: str) -> None:
    currency = accounts.default_currency(sb, account)
    events.emit(sb, "balance.available", ledger.balance(sb, account, currency), account)


def start_ticker(sb: Sandbox) -> None:
    def loop() -> None:
        while True:
            time.sleep(sb.settings.tick_seconds)
            try:
                run_due(sb)
            except Exception:
                # A bad timer must not stop the clock for everything else; its transaction was rolled back.
                logging.getLogger(__name__).exception("clock tick failed")

    threading.Thread(target=loop, daemon=True, name="clock-ticker").start()
