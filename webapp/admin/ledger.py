"""Admin: the ledger's verification result and the platform's balances per currency.

Routes on the admin blueprint (webapp/admin/__init__.py imports this module).
"""

from __future__ import annotations

from flask import render_template

from webapp.admin import bp
from webapp.auth.access import admin_required
from webapp.domain.ledger import LABELS
from webapp.services import balances, verification


@bp.get("/ledger")
@admin_required
def ledger():
    report = verification.verify()
    return render_template("admin/ledger.html", report=report, checks=verification.CHECKS,
                           platform=balances.platform_accounts(), labels={k.value: v for k, v in LABELS.items()})
