"""A small Flask ERP that embeds flask-maventa exactly as a host would.

    flask --app example_app seed     # tables + demo data (idempotent)
    flask --app example_app run      # http://127.0.0.1:5000/
    python -m example_app.demo       # everything: Redis, sandbox Maventa, worker, scheduler, app

Configuration comes from the environment: ``DATABASE_URL`` (default: SQLite in the
instance folder), ``SECRET_KEY``, and every ``MAVENTA_*`` variable is passed through to the
extension (values that parse as JSON are parsed: ``MAVENTA_SWEEP_INTERVAL=10``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, refresh

from .models import db

LANGUAGES = ("en", "nb", "fi", "sv")
# The ERP's own texts: its own catalogue (example_app/translations, domain "example"), never the
# extension's "maventa" domain, which the extension reads through its own Domain object.
TRANSLATION_DOMAIN = "example"
SECRET_KEY_FILE = "maventa_secret.key"


def select_locale() -> str | None:
    if not has_request_context():  # a worker or the CLI: BABEL_DEFAULT_LOCALE
        return None
    return session.get("language") or request.accept_languages.best_match(LANGUAGES) or "en"


def environment_config(environ=os.environ) -> dict:
    config = {}
    if environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"]
    if environ.get("SECRET_KEY"):
        config["SECRET_KEY"] = environ["SECRET_KEY"]
    if environ.get("EXAMPLE_RESTRICTED_COMPANIES"):
        config["EXAMPLE_RESTRICTED_COMPANIES"] = environ["EXAMPLE_RESTRICTED_COMPANIES"]
    if environ.get("EXAMPLE_MAIL_LOG"):
        config["EXAMPLE_MAIL_LOG"] = environ["EXAMPLE_MAIL_LOG"]
    for key, value in environ.items():
        if key.startswith("MAVENTA_"):  # a misspelt key fails at start-up, inside the extension
            try:
                config[key] = json.loads(value)
            except ValueError:
                config[key] = value
    return config


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("EXAMPLE_INSTANCE_PATH") or None)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SECRET_KEY="example-erp-development-key",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(app.instance_path) / 'example.db'}",
        MAVENTA_ENVIRONMENT="sandbox",
        MAVENTA_VENDOR_API_KEY="demo-vendor-key",
    )
    app.config.update(environment_config())
    app.config.update(config or {})
    key_file = Path(app.instance_path) / SECRET_KEY_FILE
    if not app.config.get("MAVENTA_SECRET_KEY") and key_file.exists():  # written by the demo's first run
        app.config["MAVENTA_SECRET_KEY"] = key_file.read_text().strip()

    db.init_app(app)
    Babel(app, locale_selector=select_locale, default_domain=TRANSLATION_DOMAIN)
    # Flask-Babel caches the locale on `g`: requests that share one app context (a test client inside
    # `with app.app_context()`) would keep the first one. Each request chooses its own.
    app.before_request(refresh)

    from . import customers, views  # noqa: F401 - customers adds its pages to the blueprint
    from .seed import seed_command

    app.register_blueprint(views.bp)
    app.cli.add_command(seed_command)
    register_maventa(app)
    return app


def register_maventa(app: Flask) -> None:
    """Everything a host adds for flask-maventa (the README shows these lines)."""
    from flask_maventa import Maventa

    from .adapter import ExampleAdapter, MailLog

    app.config.setdefault("MAVENTA_BASE_TEMPLATE", "example/layout.html")  # pages inside our layout
    mail_log = app.config.get("EXAMPLE_MAIL_LOG")  # no mail server in the demo: error emails go to a file
    Maventa(app, db=db, adapter=ExampleAdapter(), mailer=MailLog(mail_log) if mail_log else None)
    # Development: `flask maventa create-tables`; production: `flask maventa upgrade`.
