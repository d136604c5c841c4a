"""The platform admin's pages.

Each module of the package adds its routes to `bp`; importing the package registers them all.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from webapp.admin import (  # noqa: E402, F401
    audit_log,
    events,
    health,
    ledger,
    payments,
    payouts,
    reconciliation,
    views,
    work,
)
