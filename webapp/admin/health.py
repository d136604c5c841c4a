"""Admin: the platform's health on one page for a person — the same facts as the pipeline metrics, the last
reconciliation run with the mismatches still open, and webhook lag (webapp.services.health_reads)."""

from __future__ import annotations

from flask import render_template

from webapp.admin import bp
from webapp.auth.access import admin_required
from webapp.services import health_reads


@bp.get("/health")
@admin_required
def health():
    return render_template("admin/health.html", h=health_reads.health(), age=health_reads.age_seconds)
