"""The ``Maventa`` extension object: the one thing a host app touches."""

from __future__ import annotations

import logging
import os

from flask import Flask, current_app

from .host import HostAdapter
from .infra import config as _config
from .infra import redaction
from .infra.crypto import SecretBox

log = logging.getLogger("flask_maventa")


class Maventa:
    """Maventa e-invoicing for a Flask ERP.

    ``db`` is the host's Flask-SQLAlchemy object (the extension writes its own
    ``maventa_*`` tables through ``db.session``); ``adapter`` is the host's
    :class:`~flask_maventa.host.HostAdapter`. Every ``MAVENTA_*`` key is listed, with its
    default, in :data:`flask_maventa.infra.config.DEFAULTS` and in the README.
    """

    def __init__(self, app: Flask | None = None, *, db=None, adapter: HostAdapter | None = None):
        self.db = db
        self.adapter = adapter
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, *, db=None, adapter: HostAdapter | None = None) -> None:
        if "maventa" in app.extensions:
            raise RuntimeError(
                "flask-maventa is already registered on this app. Create Maventa(...) once "
                "and call init_app(app) once per app."
            )
        self.db = db or self.db
        self.adapter = adapter or self.adapter
        if self.db is None:
            raise RuntimeError(
                "Maventa needs the app's Flask-SQLAlchemy object: Maventa(app, db=db, adapter=...)."
            )
        if self.adapter is None:
            raise RuntimeError(
                "Maventa needs a host adapter: subclass flask_maventa.HostAdapter for your models "
                "and pass it as Maventa(app, db=db, adapter=MyAdapter()). "
                "flask_maventa.testing.MemoryAdapter is one for tests."
            )
        if not isinstance(self.adapter, HostAdapter):
            raise TypeError(
                f"adapter must be a flask_maventa.HostAdapter, got {type(self.adapter).__name__}."
            )

        _config.apply_defaults(app)
        _config.check(app)
        redaction.remember_config(app.config)

        from .cli import maventa_cli
        from .infra import token_cache  # noqa: F401 - modules that log: loaded before the secret filter goes on
        from .runtime import (  # noqa: F401 - the same
            database,
            jobs,  # noqa: F401 - the same
            scheduler,
            worker,
        )
        from .web.views import create_blueprint

        app.register_blueprint(create_blueprint(), url_prefix=app.config["MAVENTA_URL_PREFIX"])
        app.cli.add_command(maventa_cli)
        redaction.install_log_filter()
        app.extensions["maventa"] = self

    # -- services built from the config, once per process ------------------------

    @property
    def session(self):
        return self.db.session

    @property
    def config(self):
        return current_app.config

    def secrets(self) -> SecretBox:
        app = current_app._get_current_object()
        box = app.extensions.get("maventa.secrets")
        if box is None:
            box = SecretBox(app.config["MAVENTA_SECRET_KEY"], app.secret_key)
            app.extensions["maventa.secrets"] = box
        return box

    def redis(self):
        """The Redis connection RQ and the token cache use (one per process)."""
        from redis import Redis

        key = ("maventa.redis", os.getpid())
        conn = current_app.extensions.get(key)
        if conn is None:
            conn = Redis.from_url(
                current_app.config["MAVENTA_REDIS_URL"], socket_connect_timeout=2, socket_timeout=5
            )
            current_app.extensions[key] = conn
        return conn

    def queue(self):
        from rq import Queue

        return Queue(current_app.config["MAVENTA_QUEUE"], connection=self.redis())

    def base_url(self) -> str:
        from .client import BASE_URLS

        env = current_app.config["MAVENTA_ENVIRONMENT"]
        return current_app.config["MAVENTA_SANDBOX_URL"] if env == "sandbox" else BASE_URLS[env]

    def client(self):
        """A :class:`~flask_maventa.client.MaventaClient` for the configured environment."""
        import httpx

        from .client import MaventaClient

        cfg = current_app.config
        kwargs = {}
        if cfg["MAVENTA_SCOPE"]:
            kwargs["scope"] = cfg["MAVENTA_SCOPE"]
        return MaventaClient(
            self.base_url(),
            cfg["MAVENTA_VENDOR_API_KEY"] or "",
            token_store=self.token_store(),
            timeout=httpx.Timeout(cfg["MAVENTA_HTTP_TIMEOUT"], connect=cfg["MAVENTA_HTTP_CONNECT_TIMEOUT"]),
            **kwargs,
        )

    def token_store(self):
        from .infra.token_cache import ResilientTokenStore

        key = ("maventa.tokens", os.getpid())
        store = current_app.extensions.get(key)
        if store is None:
            store = ResilientTokenStore(self.redis, self.secrets())
            current_app.extensions[key] = store
        return store

    def api_key(self, connection) -> str:
        """The connection's User API key, decrypted in memory only.

        Raises :class:`~flask_maventa.infra.crypto.SecretUnreadable` when MAVENTA_SECRET_KEY cannot read it.
        """
        key = self.secrets().decrypt(connection.api_key_encrypted)
        redaction.remember(key)  # from now on scrubbed wherever Maventa might echo it
        return key

    def company_client(self, connection):
        """The client for one connection's Maventa company (decrypts its key in memory only).

        Kept per process for the stored credentials it was made from, so a worker sending thousands of
        invoices decrypts each key once; new credentials (or a new secret key) make a new client.
        """
        if not connection.has_credentials:
            raise ValueError("This company has no User API key and Company UUID yet.")
        cfg = current_app.config
        key = (os.getpid(), self.base_url(), cfg["MAVENTA_VENDOR_API_KEY"], cfg["MAVENTA_SCOPE"],
               cfg["MAVENTA_HTTP_TIMEOUT"], cfg["MAVENTA_HTTP_CONNECT_TIMEOUT"], connection.id,
               connection.company_uuid, connection.api_key_encrypted)
        cache = current_app.extensions.setdefault("maventa.company_clients", {})
        client = cache.get(key)
        if client is None:
            client = self.client().for_company(connection.company_uuid, self.api_key(connection))
            if len(cache) > 1000:  # credentials changed many times: start over rather than grow
                cache.clear()
            cache[key] = client
        return client


def current_maventa() -> Maventa:
    try:
        return current_app.extensions["maventa"]
    except KeyError:
        raise RuntimeError(
            "flask-maventa is not registered on the current app. Did you forget Maventa(app, ...) "
            "or maventa.init_app(app)?"
        ) from None
