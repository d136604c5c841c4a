"""The fault soak at volume: payments of every kind (cards, 3-D Secure, declines, bank transfers, refunds,
payouts) through the real processes while the PSP sandbox injects API errors, latency and dropped, duplicated
and delayed webhooks, an RQ worker is SIGKILLed every few seconds, Redis is restarted empty and PostgreSQL
connections are terminated. Then everything must come to rest and match the PSP (see tests/support/soak*.py).

    .venv/bin/python bench/soak.py [--count 10000] [--clients 8] [--workers 2] [--wave 250]

Writes bench/results/soak.json; exits 1 when a check failed (the problems are listed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from harness import machine, save

from tests.conftest import POSTGRES_ADMIN_URL
from tests.support.chaos import ChaosPlan
from tests.support.soak import SoakConfig
from tests.support.soak_checks import run_soak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--wave", type=int, default=250)
    parser.add_argument("--kill-worker-every", type=float, default=4.0)
    parser.add_argument("--restart-redis-every", type=float, default=30.0)
    parser.add_argument("--kill-postgres-every", type=float, default=7.0)
    args = parser.parse_args()
    config = SoakConfig(count=args.count, clients=args.clients, wave=args.wave, workers=args.workers,
                        chaos=ChaosPlan(args.kill_worker_every, args.restart_redis_every, args.kill_postgres_every))
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    started = datetime.now()
    figures = run_soak(config, work, POSTGRES_ADMIN_URL, log=lambda line: print(line, flush=True))
    save("soak", {"machine": machine(), "started": started.isoformat(timespec="seconds"),
                  "config": vars(args), **figures})
    print(f"(process logs kept in {work / 'logs'})", file=sys.stderr)
    sys.exit(1 if figures["problems"] else 0)


if __name__ == "__main__":
    main()
