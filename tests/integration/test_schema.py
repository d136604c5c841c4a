"""The migrations produce exactly the models' schema, on PostgreSQL and on SQLite."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp.dbtypes import render_item
from webapp.extensions import db


def test_models_and_migrations_do_not_drift(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_item": render_item})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models and migrations differ; run `flask db migrate`: {differences}"
