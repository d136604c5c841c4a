"""Command-line interface: `flask --app wsgi <group> <command>`."""

from flask import Flask


def register(app: Flask) -> None:
    from webapp.cli import accounts, demo, ledger, payouts, reconcile, serve
    from webapp.cli.metrics import metrics_group

    for command in (*accounts.COMMANDS, demo.demo, ledger.ledger, payouts.payouts, reconcile.reconcile, serve.serve):
        app.cli.add_command(command)
    app.cli.add_command(metrics_group)
