"""File objects (`purpose: finance_report_run`): a report's CSV kept beside the sandbox's database, served
from the files host (`GET /v1/files/{id}/contents`, the SDK's `files` base address) like files.stripe.com."""

from __future__ import annotations

from pathlib import Path

from psp_sandbox.context import Sandbox
from psp_sandbox.errors import no_such
from psp_sandbox.store import Row

YEAR = 365 * 86_400


def folder(sb: Sandbox) -> Path:
    db = sb.settings.db_path
    # Absolute: `send_file` resolves a relative path against the app package, not the working directory the
    # database path (`instance/psp_sandbox.db` by default, as `make run` starts it) is relative to.
    path = Path(db).resolve().with_name(f"{Path(db).stem}-files")
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(sb: Sandbox, file_id: str) -> Path:
    return folder(sb) / f"{file_id}.csv"


def record(sb: Sandbox, file_id: str, path: Path, account: str, title: str, files_base: str) -> Row:
    """The File object of a finished report (inside the caller's write transaction)."""
    now = sb.clock.now()
    file = {
        "id": file_id, "object": "file", "created": now, "expires_at": now + YEAR, "filename": f"{file_id}.csv",
        "links": {"object": "list", "data": [], "has_more": False, "url": f"/v1/file_links?file={file_id}"},
        "purpose": "finance_report_run", "size": path.stat().st_size, "title": title, "type": "csv",
        "url": f"{files_base}/v1/files/{file_id}/contents",
    }
    return sb.store.insert(file, account, {"path": path.name})


def get(sb: Sandbox, file_id: str, account: str) -> Row:
    row = sb.store.get(file_id, account, "file")
    if row is None:
        raise no_such("file", file_id)
    return row


def contents(sb: Sandbox, row: Row) -> Path:
    path = folder(sb) / row.private["path"]
    if not path.exists():
        raise no_such("file", row["id"])
    return path
