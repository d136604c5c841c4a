"""An uploaded settlement file travels from the web process to a worker through the database, never through a
folder on the web host (a worker on another host could not read it), and is deleted once imported."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from tests.support import ledger as books
from tests.support import payments as pay
from tests.support import reconciliation as recon
from webapp.domain.errors import ValidationError
from webapp.extensions import db
from webapp.models import ReconRun, ReconUpload
from webapp.services.reconciliation import requests
from workers import jobs


@pytest.fixture
def psp(app, gateway_server, tmp_path):
    with books.own_psp(app, gateway_server, tmp_path) as process:
        yield process


def _files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*.csv")] if folder.exists() else []


def test_an_upload_is_kept_in_the_database_until_a_worker_imported_it(app, client, psp, tmp_path):
    _, sellers, key = pay.merchant_with_sellers()
    books.paid_checkout(client, pay.Api(client, key), sellers, psp.url, amounts=("20.00",))
    day = recon.psp_day(psp.url)
    report = recon.report_csv(psp.url, day)
    instance = Path(app.instance_path)
    before = _files_under(instance)

    run = requests.request_run(day, "admin@example.com", FileStorage(io.BytesIO(report.encode()), "day.csv"))
    (upload,) = db.session.scalars(select(ReconUpload)).all()
    assert (upload.filename, upload.size) == ("day.csv", len(report.encode()))
    assert upload.content[:2] == b"\x1f\x8b" and upload.content != report.encode()  # stored gzip-compressed
    assert _files_under(instance) == before, "the upload was written to the instance folder"

    run_id, upload_id = run.id, upload.id
    db.session.rollback()  # the job runs in an app context of its own: hold no (SQLite) transaction
    jobs.reconcile(run_id, day.isoformat(), f'[["{upload_id}", "day.csv"]]')  # what the queued job runs
    db.session.rollback()
    done = db.session.get(ReconRun, run_id)
    assert done is not None and (done.status, done.source, done.rows, done.matched) == ("succeeded", "file", 1, 1)
    assert db.session.scalar(select(func.count()).select_from(ReconUpload)) == 0


def test_an_upload_that_is_not_csv_or_too_large_is_refused_and_stores_nothing(app, monkeypatch):
    with pytest.raises(ValidationError, match=r"\.csv"):
        requests.request_run(recon.date.today(), "a@example.com", FileStorage(io.BytesIO(b"x"), "day.xlsx"))
    monkeypatch.setattr(requests, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(ValidationError, match="larger"):
        requests.request_run(recon.date.today(), "a@example.com", FileStorage(io.BytesIO(b"x" * 11), "day.csv"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ReconUpload)) == 0
