"""`flask reconcile run --date YYYY-MM-DD [--file PATH]… [--json]` and `flask reconcile show --date …`.

Exit status 0 when no open mismatch of the day remains, 1 when some do (2: the run itself failed).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from webapp.domain.errors import DomainError
from webapp.domain.money import Money
from webapp.services.reconciliation import runs

reconcile = AppGroup("reconcile", help="Daily reconciliation against the PSP's settlement reports.")


def _day(_ctx, _param, value: str | None) -> date:
    if value is None:
        return runs.previous_day()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD")


class _Bar:
    """A progress bar on a terminal (click's), nothing otherwise: stages with a known total advance it."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if stage != self.stage:
            if self.stage:
                click.echo(err=True)
            self.stage = stage
        shown = f"{done:,} rows" if stage == "importing" else (f"{done}/{total}" if total else "")
        width = 30
        filled = width if stage == "done" else (width * done // total if total else (done // 5000) % width)
        click.echo(f"\r{stage:<12} [{'#' * filled}{'.' * (width - filled)}] {shown}", nl=False, err=True)


def _amount(minor: int | None, currency: str | None) -> str:
    if minor is None or currency is None:
        return "—"
    return Money(minor, currency).format()


def _print(result: runs.RunResult) -> None:
    run = result.run
    click.echo(f"Reconciliation of {run.day.isoformat()} ({run.source}, run {run.id}, {run.status})")
    click.echo(f"  rows {run.rows:,}  matched {run.matched:,}  skipped {run.skipped:,}  "
               f"open mismatches of the day {run.open_count}")
    for mismatch in result.mismatches:
        ids = mismatch.source_id or mismatch.account or "—"
        click.echo(f"  {mismatch.status:<13} {mismatch.class_name:<18} {ids:<30} "
                   f"psp {_amount(mismatch.amount_psp, mismatch.currency):>16}  "
                   f"ours {_amount(mismatch.amount_ours, mismatch.currency):>16}  {mismatch.detail}")


@reconcile.command("run")
@click.option("--date", "day", callback=_day, help="The UTC day (default: yesterday).")
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A settlement report CSV instead of fetching the day's reports from the PSP (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every mismatch found.")
def run(day: date, files: tuple[Path, ...], as_json: bool) -> None:
    """Reconcile one day; exit 1 while open mismatches remain."""
    bar = _Bar(enabled=sys.stderr.isatty() and not as_json)
    try:
        result = runs.run_day(day, files=[(path, path.name) for path in files], triggered_by="cli", progress=bar)
    except DomainError as exc:
        raise click.ClickException(exc.message)
    if bar.enabled:
        click.echo(err=True)
    if as_json:
        click.echo(json.dumps(runs.as_json(result)))
    else:
        _print(result)
    raise SystemExit(1 if result.open else 0)


@reconcile.command("show")
@click.option("--date", "day", callback=_day, help="The UTC day (default: yesterday).")
@click.option("--json", "as_json", is_flag=True)
def show(day: date, as_json: bool) -> None:
    """Print the stored result of the day's last run."""
    result = runs.stored(day)
    if result is None:
        raise click.ClickException(f"{day.isoformat()} has not been reconciled.")
    if as_json:
        click.echo(json.dumps(runs.as_json(result)))
    else:
        _print(result)
    raise SystemExit(1 if result.open else 0)
