"""A short fault soak (the full one is `bench/soak.py`): ~150 payments of every kind through the real processes
while the PSP injects errors, latency and lost, doubled and late webhooks, workers are SIGKILLed, Redis is
restarted empty and PostgreSQL connections are terminated. Nothing may be lost or done twice."""

from __future__ import annotations

import pytest

from tests.support.chaos import ChaosPlan
from tests.support.soak import SoakConfig
from tests.support.soak_checks import run_soak


@pytest.mark.slow
def test_payments_refunds_and_payouts_survive_the_faults(postgres_server, tmp_path):
    config = SoakConfig(count=150, clients=4, wave=50, converge_timeout=600,
                        chaos=ChaosPlan(worker_kill_every=3, redis_restart_every=12, pg_kill_every=5))
    figures = run_soak(config, tmp_path, postgres_server)
    assert figures["problems"] == [], figures
    faults = figures["process_faults"]
    assert faults["workers_killed"] and faults["redis_restarts"] and faults["pg_backends_terminated"], faults
    assert figures["psp_faults"].get("webhook_drop") and figures["psp_faults"].get("api_500"), figures
    assert figures["payments"] == 150 and figures["refund_statuses"].get("succeeded")
    assert figures["payout_statuses"].get("paid") and figures["payout_statuses"].get("failed")
    assert (figures["double_charges"], figures["double_refunds"], figures["double_payouts"]) == (0, 0, 0)
    assert figures["ledger_verify_ok"] and all(r["exit"] == 0 for r in figures["reconciliation"].values())
