"""Blueprint registration in one place, so the URL map is easy to find."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from webapp.admin.views import bp as admin_bp
    from webapp.auth.views import bp as auth_bp
    from webapp.ops.views import bp as ops_bp
    from webapp.portal.views import bp as portal_bp

    for blueprint in (ops_bp, auth_bp, portal_bp, admin_bp):
        app.register_blueprint(blueprint)
