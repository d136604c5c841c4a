"""Command-line interface: `flask --app wsgi <group> <command>`."""

from flask import Flask


def register(app: Flask) -> None:
    from webapp.cli import accounts, demo, ledger, payouts, reconcile, serve

    for command in (*accounts.COMMANDS, demo.demo, ledger.ledger, payouts.payouts, reconcile.reconcile, serve.serve):
        app.cli.add_command(command)
