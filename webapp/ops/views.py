"""Liveness and readiness probes for process managers and load balancers."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from webapp.extensions import db, redis_conn

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """The process is alive; says nothing about its dependencies."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database and Redis both answer. 503 names what does not."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready"; the message says which
        db.session.rollback()
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        redis_conn.client.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"unavailable: {type(exc).__name__}"
    failing = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "ok" if not failing else "unavailable", "checks": checks}
    if failing:
        body["failing"] = failing
    return jsonify(body), (503 if failing else 200)
