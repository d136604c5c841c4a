"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from webapp import create_app, freeze_long_lived

app = create_app()
freeze_long_lived()
