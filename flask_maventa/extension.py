"""The ``Maventa`` extension object: the one thing a host app touches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from .host import HostAdapter
from .infra import config as _config
from .infra import redaction
from .infra.mail import HostMailer, Mailer
from .infra.state import MaventaState, current_state

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

    from .client import TokenStore

__all__ = ["Maventa", "current_maventa"]

current_maventa = current_state  # the public name: the MaventaState of the current app


class Maventa:
    """Maventa e-invoicing for a Flask ERP.

    ``db`` is the host's Flask-SQLAlchemy object (the extension writes its own ``maventa_*`` tables
    through ``db.session``); ``adapter`` is the host's :class:`~flask_maventa.host.HostAdapter`.
    Optional plug points: ``token_store`` (a :class:`~flask_maventa.client.TokenStore` where processes
    share Maventa's access tokens, encrypted; default: Redis at MAVENTA_REDIS_URL) and ``mailer`` (an
    object with ``send(to, subject, body)`` for error emails; default: the host's Flask-Mailman or
    Flask-Mail, else SMTP with the MAVENTA_MAIL_* keys).

    One object may be registered on several apps: each app's own state lives at
    ``app.extensions["maventa"]`` (a :class:`~flask_maventa.infra.state.MaventaState`); this object only
    keeps the options it was created with. Every ``MAVENTA_*`` key is listed, with its default, in
    :data:`flask_maventa.infra.config.DEFAULTS` and in the README.
    """

    def __init__(self, app: Flask | None = None, *, db: SQLAlchemy | None = None, adapter: HostAdapter | None = None,
                 token_store: TokenStore | None = None, mailer: Mailer | None = None) -> None:
        self.db = db
        self.adapter = adapter
        self.token_store = token_store
        self.mailer = mailer
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, *, db: SQLAlchemy | None = None, adapter: HostAdapter | None = None,
                 token_store: TokenStore | None = None, mailer: Mailer | None = None) -> MaventaState:
        """Register the extension on ``app``; arguments given here override those given to ``Maventa()``."""
        if "maventa" in app.extensions:
            raise RuntimeError(
                "flask-maventa is already registered on this app. Create Maventa(...) once "
                "and call init_app(app) once per app."
            )
        db = db or self.db
        adapter = adapter or self.adapter
        if db is None:
            raise RuntimeError(
                "Maventa needs the app's Flask-SQLAlchemy object: Maventa(app, db=db, adapter=...)."
            )
        if adapter is None:
            raise RuntimeError(
                "Maventa needs a host adapter: subclass flask_maventa.HostAdapter for your models "
                "and pass it as Maventa(app, db=db, adapter=MyAdapter()). "
                "flask_maventa.testing.MemoryAdapter is one for tests."
            )
        if not isinstance(adapter, HostAdapter):
            raise TypeError(f"adapter must be a flask_maventa.HostAdapter, got {type(adapter).__name__}.")
        if callable(getattr(adapter, "send_mail", None)):
            raise TypeError(
                f"{type(adapter).__name__}.send_mail is no longer called: pass your mailer as "
                "Maventa(app, ..., mailer=obj), obj having send(to, subject, body)."
            )

        _config.apply_defaults(app)
        _config.check(app)
        redaction.remember_config(app.config)

        from .cli import maventa_cli
        from .runtime import database, jobs, scheduler, worker  # noqa: F401 - they log: loaded before the filter
        from .web.views import create_blueprint

        state = MaventaState(app, db=db, adapter=adapter, mailer=mailer or self.mailer or HostMailer(),
                             token_store=token_store or self.token_store)
        app.extensions["maventa"] = state
        app.register_blueprint(create_blueprint(), url_prefix=app.config["MAVENTA_URL_PREFIX"])
        app.cli.add_command(maventa_cli)
        redaction.install_log_filter()
        return state
