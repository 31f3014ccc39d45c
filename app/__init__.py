"""Safer Libraries: the application factory."""
import logging

from flask import Flask

from app.config import Config, validate_config
from app.extensions import compress, csrf, db, limiter, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` overrides the environment (tests inject theirs)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    validate_config(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
            "connect_args": {"timeout": 30},
        }
    logging.basicConfig(level=logging.INFO)

    register_extensions(app)
    register_record_types(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_security_headers(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every model registered before migrations look)
    from app.db_events import enable_sqlite_wal

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    register_weak_signal_serving(app)
    with app.app_context():
        enable_sqlite_wal(db)


def register_weak_signal_serving(app: Flask) -> None:
    """Fewer bytes on a weak signal: HTML and JSON compressed (br or gzip, as the phone asks;
    never tiny or streamed bodies), static files compressed and cached by version (WhiteNoise).

    Registered before every other after_request function, so compression runs after them all."""
    from app.main.static_files import serve_static_files

    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)   # a few % smaller pages than 4, still ~1 ms a page
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_STREAMS", False)
    compress.init_app(app)
    serve_static_files(app)


def register_record_types(app: Flask) -> None:
    """Every kind of record a phone can send, listed here once; the sync API and the forms ingest them."""
    from app.incidents.services import incident_record_types
    from app.lone_working.services import lone_working_record_types
    from app.sync.registry import register_record_type

    for record_type in [*incident_record_types(), *lone_working_record_types()]:
        register_record_type(record_type)


def register_blueprints(app: Flask) -> None:
    from app.auth.views import bp as auth_bp
    from app.incidents.views import bp as incidents_bp
    from app.lone_working.api import bp as lone_working_api_bp
    from app.lone_working.views import bp as lone_working_bp
    from app.main.views import bp as main_bp
    from app.supervise.views import bp as supervise_bp
    from app.sync.views import bp as sync_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(incidents_bp, url_prefix="/incidents")
    app.register_blueprint(sync_bp, url_prefix="/api/v1")
    app.register_blueprint(lone_working_api_bp, url_prefix="/api/v1")
    app.register_blueprint(lone_working_bp, url_prefix="/lone-working")
    app.register_blueprint(supervise_bp, url_prefix="/supervise")


def register_error_handlers(app: Flask) -> None:
    from app.errors import register_error_handlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from app.auth.cli import register_auth_commands
    from app.lone_working.cli import register_lone_working_commands

    register_auth_commands(app)
    register_lone_working_commands(app)


def register_security_headers(app: Flask) -> None:
    from app.main.security import add_security_headers

    app.after_request(add_security_headers)


def register_template_helpers(app: Flask) -> None:
    from app.access import can_supervise
    from app.main.templating import register_template_helpers as register

    register(app)
    # Templates ask the access policy what to show, never a role name.
    app.jinja_env.globals["can_supervise"] = can_supervise
