"""Unbound extension instances; `create_app()` binds them to an application."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import redis
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sock import Sock
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from webapp.dbtypes import render_item

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
# Models subclass `Model`; the type checker sees the declarative base that db.Model is built on.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate(compare_type=True, render_item=render_item)
login_manager = LoginManager()
csrf = CSRFProtect()
sock = Sock()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class RedisConnection:
    """One Redis client per application, built from REDIS_URL (short timeouts: Redis only carries hints)."""

    def __init__(self) -> None:
        self._client: redis.Redis | None = None

    def init_app(self, app: Flask) -> None:
        self._client = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2, health_check_interval=30
        )
        app.extensions["redis"] = self

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            raise RuntimeError("Redis is not initialised: call init_app first")
        return self._client


redis_conn = RedisConnection()


def limit_decorated_views_only(app: Flask) -> None:
    """Call once the blueprints are registered. Flask-Limiter's app-wide `before_request` applies default,
    application and blueprint limits; this app has none (the sign-in views carry `@limiter.limit`, which checks
    in the view's own wrapper, and /v1/ counts in webapp.api.ratelimit), yet finding that out cost ~0.15 ms of
    CPU on every request, the API's and webhooks' included. So the hook goes, unless such limits are configured."""
    manager = limiter.limit_manager
    if manager.default_limits or manager.application_limits or manager._blueprint_limits:
        return
    app.before_request_funcs[None].remove(limiter._check_request_limit)


def register_extensions(app: Flask) -> None:
    import webapp.dbengine  # noqa: F401  (engine event hooks)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
    redis_conn.init_app(app)
    from webapp import dbsession

    dbsession.register(app)

    from webapp.auth import headers, sessions

    login_manager.user_loader(sessions.load_user)
    app.session_interface = sessions.SignedCookieSessions()
    headers.init_app(app)
