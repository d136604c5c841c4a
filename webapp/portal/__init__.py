"""The merchant portal: a merchant user sees and manages only its own merchant's data.

Each module of the package adds its routes to `bp`; importing the package registers them all, so the URL map of
the portal is this package and nothing else.
"""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")

from webapp.portal import (  # noqa: E402, F401
    access,
    payment_page,
    payments,
    payout_settings,
    payouts,
    sellers,
    settings,
    views,
    wallets,
    webhooks,
)
