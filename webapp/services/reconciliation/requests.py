"""Asking for a run from the admin page: recorded at once (the page shows it), done by a worker (RQ, `low` queue),
progress published as it goes. An uploaded file is kept under the instance folder until its run imported it."""

from __future__ import annotations

import json
import secrets
from datetime import date
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

from webapp.domain.errors import ValidationError
from webapp.domain.reconciliation import RunSource
from webapp.models import ReconRun
from webapp.services.reconciliation import runs

MAX_UPLOAD_BYTES = 512 * 1024 * 1024


def _uploads() -> Path:
    folder = Path(current_app.instance_path) / "reconciliation"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def request_run(day: date, actor: str, upload: FileStorage | None = None) -> ReconRun:
    """Record a run of `day` (of the uploaded file, or of the PSP's reports) and queue it for a worker."""
    files: list[tuple[str, str]] = []
    if upload is not None and upload.filename:
        name = Path(upload.filename).name
        if not name.lower().endswith(".csv"):
            raise ValidationError("Upload the settlement report as a .csv file.", param="file")
        path = _uploads() / f"{secrets.token_hex(8)}.csv"
        upload.save(path)
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            path.unlink()
            raise ValidationError("The file is larger than 512 MB.", param="file")
        files.append((str(path), name))
    run = runs.start(day, RunSource.FILE if files else RunSource.PSP, actor)
    from workers import enqueue

    enqueue.queue("low").enqueue("workers.jobs.reconcile", run.id, day.isoformat(), json.dumps(files),
                                 job_timeout=3600, result_ttl=0, failure_ttl=7 * 24 * 3600)
    return run


def perform(run_id: str, day: date, files: list[tuple[str, str]]) -> runs.RunResult | None:
    """The worker's side: run the recorded run, publishing progress; uploaded files are removed afterwards."""
    from webapp.extensions import db
    from webapp.services.reconciliation.progress import Publisher

    run = db.session.get(ReconRun, run_id)
    if run is None or run.status != "running":
        return None
    publisher = Publisher(run_id)
    try:
        result = runs.run_day(day, files=[(Path(path), name) for path, name in files], triggered_by=run.triggered_by,
                              progress=publisher, run=run)
    except Exception as exc:
        publisher.send({"run": run_id, "status": "failed", "error": str(exc)[:300]})
        raise
    finally:
        for path, _ in files:
            Path(path).unlink(missing_ok=True)
    publisher.send({"run": run_id, "status": result.run.status, "rows": result.run.rows,
                    "matched": result.run.matched, "counts": json.loads(result.run.counts),
                    "open": result.run.open_count})
    return result
