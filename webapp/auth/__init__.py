"""Signing in and out (with a TOTP second factor), the account security page, and disabling users.

Each module of the package adds its routes to `bp`; importing the package registers them all.
"""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from webapp.auth import security, two_factor_gate, users, views  # noqa: E402, F401
