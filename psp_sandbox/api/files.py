"""Files: the File objects of finished reports, and their contents on the files host (as files.stripe.com:
`GET /v1/files/{id}/contents` with the secret key, Basic or Bearer)."""

from __future__ import annotations

from flask import Response, send_file

from psp_sandbox.api import Call, route
from psp_sandbox.lists import Query, page
from psp_sandbox.reporting import files


@route("/files")
def list_files(call: Call) -> dict:
    query = Query("file", call.account).field("purpose", call.params.get("purpose"))
    query.time_range("created", call.params, "created")
    return page(call.sb.store, query, call.params, "/v1/files")


@route("/files/<file_id>")
def retrieve_file(call: Call, file_id: str) -> dict:
    return files.get(call.sb, file_id, call.account)


@route("/files/<file_id>/contents")
def file_contents(call: Call, file_id: str) -> Response:
    row = files.get(call.sb, file_id, call.account)
    # Streamed from disk in chunks, however large the report.
    return send_file(files.contents(call.sb, row), mimetype="text/csv", as_attachment=True,
                     download_name=row["filename"], conditional=False)
