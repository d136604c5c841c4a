"""Queue names, highest priority first: a worker drains `high` before it looks at `default`."""

HIGH = "high"        # what a buyer is waiting on: registering a checkout with the PSP, applying results
DEFAULT = "default"  # the ledger, refunds, payouts
LOW = "low"          # sweeps and reports

ALL = (HIGH, DEFAULT, LOW)
