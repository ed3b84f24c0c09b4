"""Everything flask-maventa holds for one app, at ``app.extensions["maventa"]`` (Flask-SQLAlchemy's pattern).

One ``Maventa()`` object may be registered on many apps: each gets its own :class:`MaventaState` with its
database, adapter, token store, mailer, secrets box, Redis connection and Maventa clients; the ``Maventa``
object itself keeps nothing of any app. Services reach the state of the current app with
:func:`current_state`. What is built from the config (the secrets box, Redis, the clients) is built on
first use and kept per process: a forked worker makes its own connections.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from flask import Config, Flask, current_app
from redis import Redis
from rq import Queue

from .. import client as maventa_client
from ..client import CompanyClient, MaventaClient, TokenStore
from . import redaction
from .crypto import SecretBox, SecretUnreadable
from .mail import Mailer
from .token_cache import TokenCache

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy.orm import scoped_session

    from ..host import HostAdapter
    from .models import Connection

__all__ = ["MaventaState", "current_state"]

COMPANY_CLIENTS_MAX = 1000  # credentials changed this often in one process: start the cache over


class MaventaState:
    """The extension on one app: the host's ``db`` and ``adapter``, the plug points, and the connections."""

    def __init__(self, app: Flask, *, db: SQLAlchemy, adapter: HostAdapter, mailer: Mailer,
                 token_store: TokenStore | None = None) -> None:
        self.app = app
        self.db = db
        self.adapter = adapter
        self.mailer = mailer
        self._shared_tokens = token_store  # None: Redis (MAVENTA_REDIS_URL)
        self._lock = threading.Lock()
        self._secrets: SecretBox | None = None
        self._pid = os.getpid()
        self._redis: Redis | None = None
        self._token_cache: TokenCache | None = None
        self._company_clients: dict[tuple[Any, ...], CompanyClient] = {}

    @property
    def config(self) -> Config:
        return self.app.config

    @property
    def session(self) -> scoped_session[Any]:
        return self.db.session

    def secrets(self) -> SecretBox:
        """Encrypts and decrypts the stored secrets with MAVENTA_SECRET_KEY (checked at ``init_app``)."""
        if self._secrets is None:
            self._secrets = SecretBox(self.config["MAVENTA_SECRET_KEY"], self.app.secret_key)
        return self._secrets

    def _this_process(self) -> None:
        """After a fork, connections inherited from the parent are never used: start afresh."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._redis, self._token_cache, self._company_clients = None, None, {}
                    self._pid = os.getpid()

    def redis(self) -> Redis:
        """The Redis connection RQ and the default token store use (one per process)."""
        self._this_process()
        if self._redis is None:
            self._redis = Redis.from_url(self.config["MAVENTA_REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
        return self._redis

    def queue(self) -> Queue:
        return Queue(self.config["MAVENTA_QUEUE"], connection=self.redis())

    def token_store(self) -> TokenCache:
        """Tokens in this process's memory first, then encrypted in the shared store (``token_store=``, else Redis)."""
        self._this_process()
        if self._token_cache is None:
            plugged = self._shared_tokens
            if plugged is not None:
                shared: Callable[[], TokenStore] = lambda: plugged  # noqa: E731 - the host's one store
            else:
                shared = lambda: maventa_client.RedisTokenStore(self.redis())  # noqa: E731 - this process's Redis
            self._token_cache = TokenCache(shared, self.secrets())
        return self._token_cache

    def base_url(self) -> str:
        env = self.config["MAVENTA_ENVIRONMENT"]
        return str(self.config["MAVENTA_SANDBOX_URL"] if env == "sandbox" else maventa_client.BASE_URLS[env])

    def client(self) -> MaventaClient:
        """A :class:`~flask_maventa.client.MaventaClient` for the configured environment."""
        cfg = self.config
        timeout = httpx.Timeout(cfg["MAVENTA_HTTP_TIMEOUT"], connect=cfg["MAVENTA_HTTP_CONNECT_TIMEOUT"])
        if cfg["MAVENTA_SCOPE"]:
            return MaventaClient(self.base_url(), cfg["MAVENTA_VENDOR_API_KEY"] or "", token_store=self.token_store(),
                                 timeout=timeout, scope=cfg["MAVENTA_SCOPE"])
        return MaventaClient(self.base_url(), cfg["MAVENTA_VENDOR_API_KEY"] or "", token_store=self.token_store(),
                             timeout=timeout)

    def api_key(self, connection: Connection) -> str:
        """The connection's User API key, decrypted in memory only.

        Raises :class:`~flask_maventa.infra.crypto.SecretUnreadable` when MAVENTA_SECRET_KEY cannot read it.
        """
        key = self.secrets().decrypt(connection.api_key_encrypted or "")
        redaction.remember(key)  # from now on scrubbed wherever Maventa might echo it
        return key

    def company_client(self, connection: Connection) -> CompanyClient:
        """The client for one connection's Maventa company (decrypts its key in memory only).

        Kept per process for the stored credentials it was made from, so a worker sending thousands of
        invoices decrypts each key once; new credentials (or a new secret key) make a new client.
        """
        if not connection.has_credentials or connection.company_uuid is None:
            raise ValueError("This company has no User API key and Company UUID yet.")
        self._this_process()
        cfg = self.config
        key = (self.base_url(), cfg["MAVENTA_VENDOR_API_KEY"], cfg["MAVENTA_SCOPE"], cfg["MAVENTA_HTTP_TIMEOUT"],
               cfg["MAVENTA_HTTP_CONNECT_TIMEOUT"], connection.id, connection.company_uuid,
               connection.api_key_encrypted)
        found = self._company_clients.get(key)
        if found is None:
            found = self.client().for_company(connection.company_uuid, self.api_key(connection))
            if len(self._company_clients) > COMPANY_CLIENTS_MAX:
                self._company_clients.clear()
            self._company_clients[key] = found
        return found


    def forget_company(self, connection: Connection) -> None:
        """Drop what this process keeps for the connection's credentials (its client) and the access token
        cached for them (memory and Redis): after a disconnect nothing can use them any more."""
        try:
            client = self.company_client(connection)
        except (ValueError, SecretUnreadable):
            return
        self.token_store().delete(client.auth.key)
        for key, found in list(self._company_clients.items()):
            if found is client:
                del self._company_clients[key]


def current_state() -> MaventaState:
    """The state of the current app (``RuntimeError`` when flask-maventa is not registered on it)."""
    try:
        state = current_app.extensions["maventa"]
    except KeyError:
        raise RuntimeError(
            "flask-maventa is not registered on the current app. Did you forget Maventa(app, ...) "
            "or maventa.init_app(app)?"
        ) from None
    if not isinstance(state, MaventaState):
        raise RuntimeError(f'app.extensions["maventa"] holds a {type(state).__name__}, not flask-maventa\'s state.')
    return state
