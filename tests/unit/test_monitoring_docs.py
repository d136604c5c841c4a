"""The shipped Prometheus config, alert rules and Grafana dashboard use only metric families the gateway exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import webapp.ops.metrics  # noqa: F401  (registers the families)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "monitoring"
# Gauges computed at scrape time: the database's (webapp.ops.metrics_state) and the pipeline's (the admin console's
# collector, webapp.ops.pipeline_metrics).
SCRAPE_TIME = {"paysplit_reconciliation_mismatches", "paysplit_reconciliation_mismatch_oldest_open_seconds",
               "paysplit_ledger_verify_ok", "paysplit_ledger_verify_timestamp_seconds", "paysplit_queue_depth",
               "paysplit_dead_letters", "paysplit_outbox_backlog", "paysplit_inbox_backlog"}


def exported() -> set[str]:
    names = set(SCRAPE_TIME)
    for collector in list(REGISTRY._collector_to_names):
        for family in collector.describe() if hasattr(collector, "describe") else []:
            if family.name.startswith("paysplit_"):
                names |= {family.name, f"{family.name}_total", f"{family.name}_bucket", f"{family.name}_sum",
                          f"{family.name}_count"}
    return names


def used(text: str) -> set[str]:
    return set(re.findall(r"paysplit_[a-z_]+", text))


def test_alert_rules_parse_and_use_exported_metrics():
    rules = yaml.safe_load((DOCS / "alerts.yml").read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert names >= {"PaysplitWebhookLagHigh", "PaysplitDeadLetters", "PaysplitOutboxBacklogGrowing",
                     "PaysplitPayoutFailures", "PaysplitReconciliationMismatchesOpenPastADay",
                     "PaysplitLedgerVerifyFailing"}
    exprs = " ".join(rule["expr"] for group in rules["groups"] for rule in group["rules"])
    assert used(exprs) - exported() == set()


def test_the_dashboard_uses_exported_metrics_and_the_scrape_config_loads_the_rules():
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    exprs = " ".join(target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", []))
    assert used(exprs) - exported() == set()
    assert len(used(exprs)) >= 15
    scrape = yaml.safe_load((DOCS / "prometheus.yml").read_text())
    assert scrape["rule_files"] == ["alerts.yml"]
    assert all(job["metrics_path"] == "/metrics" for job in scrape["scrape_configs"])
