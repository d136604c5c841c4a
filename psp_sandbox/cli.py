"""`python -m psp_sandbox [serve] ...`, `... trigger <event-type>`, `... listen --forward-to URL`.

Options can also come from environment variables (`PSP_SANDBOX_PORT`, `PSP_SANDBOX_DB`,
`PSP_SANDBOX_WEBHOOK_URL`, `PSP_SANDBOX_WEBHOOK_SECRET`, ...); command-line options win.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from psp_sandbox.settings import Settings

DEFAULT_API = "http://127.0.0.1:12111"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"PSP_SANDBOX_{name}", default)


def _serve_parser(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the sandbox server (the default command)")
    defaults = Settings()
    serve.add_argument("--host", default=_env("HOST", defaults.host))
    serve.add_argument("--port", type=int, default=int(_env("PORT", str(defaults.port)) or defaults.port))
    serve.add_argument("--db", type=Path, default=Path(_env("DB", str(defaults.db_path)) or defaults.db_path),
                       help="SQLite file holding all state (default: instance/psp_sandbox.db)")
    serve.add_argument("--reset", action="store_true", help="start from an empty database")
    serve.add_argument("--webhook-url", default=_env("WEBHOOK_URL"),
                       help="ensure webhook endpoints for all events (platform and Connect) at this URL")
    serve.add_argument("--webhook-events", default=_env("WEBHOOK_EVENTS", "*"),
                       help="comma-separated event types those endpoints are enabled for (default: all, '*')")
    serve.add_argument("--webhook-secret", default=_env("WEBHOOK_SECRET"),
                       help="the whsec_... signing secret of those endpoints")
    serve.add_argument("--threads", type=int, default=defaults.threads)
    serve.add_argument("--fee-percent", type=float, default=defaults.fee_percent)
    serve.add_argument("--fee-fixed", type=int, default=defaults.fee_fixed, help="fixed fee in minor units")
    serve.add_argument("--available-delay", type=int, default=defaults.available_delay,
                       help="seconds of sandbox time before charge funds become available")
    serve.add_argument("--bank-transfer-delay", type=int, default=defaults.bank_transfer_delay)
    serve.add_argument("--payout-transit-delay", type=int, default=defaults.payout_transit_delay)
    serve.add_argument("--payout-arrival-delay", type=int, default=defaults.payout_arrival_delay)
    serve.add_argument("--webhook-retry-base", type=float, default=defaults.webhook_retry_base,
                       help="seconds before the first retry; each next wait doubles")
    serve.add_argument("--webhook-max-attempts", type=int, default=defaults.webhook_max_attempts)
    serve.add_argument("--webhook-timeout", type=float, default=defaults.webhook_timeout)
    serve.add_argument("--webhook-workers", type=int, default=defaults.webhook_workers)
    serve.add_argument("--tick", type=float, default=defaults.tick_seconds,
                       help="seconds between runs of the work that falls due on the clock")
    serve.add_argument("--allow-remote-control", action="store_true",
                       help="let clients other than loopback use /_sandbox/... (clock, faults, reports, dashboard)")
    serve.add_argument("--merchant-name", default=_env("MERCHANT_NAME", defaults.merchant_name))
    serve.add_argument("--log-format", choices=("auto", "json", "console"),
                       default=os.environ.get("LOG_FORMAT") or defaults.log_format,
                       help="one JSON object per line, or lines for people (auto: console on a terminal)")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m psp_sandbox", description="Offline Stripe-compatible PSP sandbox")
    commands = root.add_subparsers(dest="command")
    _serve_parser(commands)
    trigger = commands.add_parser("trigger", help="make the sandbox emit an event, like `stripe trigger`")
    trigger.add_argument("event", help="event type, e.g. checkout.session.completed (`list` shows them all)")
    trigger.add_argument("--api", default=_env("API", DEFAULT_API), help="the sandbox's base URL")
    listen = commands.add_parser("listen", help="forward the sandbox's events to a URL, like `stripe listen`")
    listen.add_argument("--forward-to", required=True)
    listen.add_argument("--api", default=_env("API", DEFAULT_API))
    listen.add_argument("--secret", default=_env("WEBHOOK_SECRET"), help="signing secret (default: a new one)")
    listen.add_argument("--events", default="*", help="comma-separated event types to forward")
    return root


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(
        host=args.host, port=args.port, db_path=args.db, threads=args.threads, fee_percent=args.fee_percent,
        fee_fixed=args.fee_fixed, available_delay=args.available_delay, bank_transfer_delay=args.bank_transfer_delay,
        payout_transit_delay=args.payout_transit_delay, payout_arrival_delay=args.payout_arrival_delay,
        webhook_retry_base=args.webhook_retry_base, webhook_max_attempts=args.webhook_max_attempts,
        webhook_timeout=args.webhook_timeout, webhook_workers=args.webhook_workers, tick_seconds=args.tick,
        merchant_name=args.merchant_name, webhook_url=args.webhook_url, webhook_secret=args.webhook_secret,
        log_format=args.log_format,
        allow_remote_control=args.allow_remote_control,
    )


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "serve")
    args = parser().parse_args(argv)
    # Each command imports only what it needs: `trigger` and `listen` start without the server's stack.
    if args.command == "trigger":
        from psp_sandbox.trigger import trigger

        sys.exit(trigger(args.api, args.event))
    if args.command == "listen":
        from psp_sandbox.listen import listen

        sys.exit(listen(args.api, args.forward_to, args.secret, args.events))
    _prepare_and_serve(args)


def _prepare_and_serve(args: argparse.Namespace) -> None:
    from psp_sandbox.context import Sandbox
    from psp_sandbox.resources import endpoints, external_accounts
    from psp_sandbox.server import serve
    from psp_sandbox.store import Store

    if bool(args.webhook_url) != bool(args.webhook_secret):
        sys.exit("--webhook-url and --webhook-secret go together")
    if args.webhook_secret and not args.webhook_secret.startswith("whsec_"):
        sys.exit("--webhook-secret must start with whsec_")
    settings = settings_from(args)
    if args.reset:
        Store(settings.db_path).reset()
    sb = Sandbox.open(settings)
    with sb.store.write():
        external_accounts.ensure_platform_bank_account(sb)
        if settings.webhook_url and settings.webhook_secret:
            endpoints.ensure(sb, settings.webhook_url, settings.webhook_secret,
                             [e.strip() for e in args.webhook_events.split(",") if e.strip()])
    # The server's worker process opens its own connections after the fork.
    sb.store.close()
    from webapp import logging_setup

    logging_setup.setup(settings.log_format)
    logging.getLogger("psp_sandbox").info("psp_sandbox listening on http://%s:%s (db %s)", settings.host,
                                          settings.port, settings.db_path)
    serve(settings)
