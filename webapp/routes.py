"""Blueprint registration in one place, so the URL map is easy to find."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    import webapp.live.views  # noqa: F401  (registers the WebSocket route on `sock`)
    from webapp.admin import bp as admin_bp
    from webapp.api import bp as api_bp
    from webapp.auth import bp as auth_bp
    from webapp.checkout.views import bp as checkout_bp
    from webapp.ops.views import bp as ops_bp
    from webapp.portal import bp as portal_bp
    from webapp.storefront.views import bp as storefront_bp
    from webapp.webhooks.views import bp as webhooks_bp

    for blueprint in (ops_bp, auth_bp, portal_bp, admin_bp, api_bp, webhooks_bp, checkout_bp, storefront_bp):
        app.register_blueprint(blueprint)
    # After the imports above: flask-sock keeps the WebSocket routes declared before its first init_app on its
    # own blueprint, which it registers on every app (declared after, they would join the first app only).
    from webapp.extensions import sock

    sock.init_app(app)
