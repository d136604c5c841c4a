"""Asking for a run from the admin page: recorded at once (the page shows it), done by a worker (RQ, `low` queue),
progress published as it goes. An uploaded file is kept in the database (compressed) until its run imported it,
so the worker may run on another host than the web process that received it."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tempfile
from datetime import date
from pathlib import Path

from werkzeug.datastructures import FileStorage

from webapp.domain.errors import ValidationError
from webapp.domain.reconciliation import RunSource
from webapp.models import ReconRun, ReconUpload
from webapp.services.reconciliation import runs

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
_CHUNK = 1024 * 1024


def _store(upload: FileStorage, name: str) -> str:
    """Compress the upload into a `ReconUpload` row (added to the session, not committed); its id."""
    from webapp.extensions import db

    compressed, size = io.BytesIO(), 0
    with gzip.GzipFile(fileobj=compressed, mode="wb", compresslevel=6) as out:
        while chunk := upload.stream.read(_CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise ValidationError("The file is larger than 512 MB.", param="file")
            out.write(chunk)
    row = ReconUpload(filename=name, size=size, content=compressed.getvalue())
    db.session.add(row)
    db.session.flush()
    return row.id


def request_run(day: date, actor: str, upload: FileStorage | None = None) -> ReconRun:
    """Record a run of `day` (of the uploaded file, or of the PSP's reports) and queue it for a worker."""
    files: list[tuple[str, str]] = []
    if upload is not None and upload.filename:
        name = Path(upload.filename).name
        if not name.lower().endswith(".csv"):
            raise ValidationError("Upload the settlement report as a .csv file.", param="file")
        files.append((_store(upload, name), name))
    run = runs.start(day, RunSource.FILE if files else RunSource.PSP, actor)
    from workers import enqueue

    enqueue.queue("low").enqueue("workers.jobs.reconcile", run.id, day.isoformat(), json.dumps(files),
                                 job_timeout=3600, result_ttl=0, failure_ttl=7 * 24 * 3600)
    return run


def _unpack(upload_id: str, folder: Path) -> Path:
    """The upload's CSV as a file in this worker's own temporary folder."""
    from webapp.extensions import db

    row = db.session.get(ReconUpload, upload_id)
    if row is None:
        raise ValidationError(f"The uploaded file {upload_id} is gone; upload it again.", param="file")
    path = folder / f"{upload_id}.csv"
    with gzip.GzipFile(fileobj=io.BytesIO(row.content)) as source, path.open("wb") as out:
        shutil.copyfileobj(source, out, _CHUNK)
    db.session.expunge(row)  # its bytes need not stay in the session while the run works
    return path


def perform(run_id: str, day: date, files: list[tuple[str, str]]) -> runs.RunResult | None:
    """The worker's side: run the recorded run, publishing progress; `files` are (upload id, file name) pairs,
    deleted once the run has imported them."""
    from sqlalchemy import delete

    from webapp.extensions import db
    from webapp.services.reconciliation.progress import Publisher

    run = db.session.get(ReconRun, run_id)
    if run is None or run.status != "running":
        return None
    publisher = Publisher(run_id)
    try:
        with tempfile.TemporaryDirectory(prefix="recon-") as folder:
            local = [(_unpack(upload_id, Path(folder)), name) for upload_id, name in files]
            result = runs.run_day(day, files=local, triggered_by=run.triggered_by, progress=publisher, run=run)
    except Exception as exc:
        publisher.send({"run": run_id, "status": "failed", "error": str(exc)[:300]})
        raise
    if files:
        db.session.execute(delete(ReconUpload).where(ReconUpload.id.in_([upload_id for upload_id, _ in files])))
        db.session.commit()
    publisher.send({"run": run_id, "status": result.run.status, "rows": result.run.rows,
                    "matched": result.run.matched, "counts": json.loads(result.run.counts),
                    "open": result.run.open_count})
    return result
