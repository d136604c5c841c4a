"""Where the sandbox keeps report files: beside its database, as an absolute path (Flask's `send_file` resolves a
relative one against the package, so a relative `--db`, as `make run` starts the sandbox, served no file)."""

from pathlib import Path
from types import SimpleNamespace

from psp_sandbox.reporting import files
from psp_sandbox.settings import Settings


def test_report_files_live_beside_a_relative_database_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sandbox = SimpleNamespace(settings=Settings(db_path=Path("instance/psp_sandbox.db")))
    folder = files.folder(sandbox)  # type: ignore[arg-type]
    assert folder.is_absolute() and folder == tmp_path / "instance" / "psp_sandbox-files"
    assert files.path_of(sandbox, "file_1").is_absolute()  # type: ignore[arg-type]
