"""booru: the LZBooru HTTP API over PostgreSQL. `create_app()` is the application factory."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from common.config import PROJECT_ROOT, Settings, load_settings


def sqlalchemy_uri(uri: str) -> str:
    """Use psycopg2 for plain postgres:// and postgresql:// URIs (SQLAlchemy 2.1 would pick psycopg 3)."""
    for scheme in ("postgres://", "postgresql://"):
        if uri.startswith(scheme):
            return "postgresql+psycopg2://" + uri[len(scheme):]
    return uri


def statement_timeout(settings: Settings) -> str:
    """libpq options bounding every statement of booru's sessions (STATEMENT_TIMEOUT seconds, 0 = none)."""
    return f"-c statement_timeout={int(settings.statement_timeout * 1000)}"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    from booru import cli
    from booru.api import init_api
    from booru.errors import register_error_handlers
    from booru.extensions import db, migrate, ping_after_idle
    from booru.metrics import init_metrics
    from booru.web import init_web

    settings = load_settings()
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        SQLALCHEMY_DATABASE_URI=sqlalchemy_uri(settings.database_uri),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 5, "max_overflow": 5,
                                   "connect_args": {"connect_timeout": 5, "options": statement_timeout(settings)},
                                   # bulk writes: pages of rows per round trip, not one per row
                                   "executemany_mode": "values_plus_batch"},
        MAX_CONTENT_LENGTH=settings.max_image_bytes + 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.config.update(config or {})
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_uri(app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    with app.app_context():
        ping_after_idle(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    init_metrics(app)  # first, so its timer starts before any other before_request hook
    register_error_handlers(app)
    init_api(app)
    init_web(app)
    cli.init_cli(app)
    return app
