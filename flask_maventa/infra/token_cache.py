"""The token cache the running extension uses: this process's memory first, then a shared store.

A worker sending thousands of invoices reads its token from memory, not from the shared store per
request; the shared store (Redis by default, or the host's ``Maventa(token_store=...)``, Flask-Dance's
``storage=`` idea) shares a token between processes and hosts, so each company costs one token
request, not one per process. When Redis is down the pages and workers keep working on the memory
copy (or fetch one).

A bearer token is a secret: in the shared store it is kept encrypted with MAVENTA_SECRET_KEY (a token
written under a key that is gone since reads as missing, and a new one is fetched), and every token
this process handles is remembered for scrubbing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterator
from typing import Any

from redis.exceptions import RedisError

from ..client import MemoryTokenStore, Token, TokenStore
from . import counters, redaction
from .crypto import SecretBox, SecretUnreadable

log = logging.getLogger("flask_maventa.tokens")


class EncryptedTokenStore(TokenStore):
    """Another store, with the access token encrypted on the way in and decrypted on the way out."""

    def __init__(self, store: TokenStore, box: SecretBox):
        self._store = store
        self._box = box

    def get(self, key: str) -> Token | None:
        token = self._store.get(key)
        if token is None:
            return None
        try:
            return dataclasses.replace(token, access_token=self._box.decrypt(token.access_token))
        except SecretUnreadable:
            return None  # written under a retired key, or not by us: fetch a new one

    def set(self, key: str, token: Token) -> None:
        self._store.set(key, dataclasses.replace(token, access_token=self._box.encrypt(token.access_token)))

    def delete(self, key: str) -> None:
        self._store.delete(key)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._store.lock(key):
            yield


class TokenCache(TokenStore):
    """Memory first, then ``shared()`` (encrypted); a Redis error falls back to memory, with a warning."""

    def __init__(self, shared: Callable[[], TokenStore], box: SecretBox):
        self._shared = shared
        self._box = box
        self._memory = MemoryTokenStore()

    def _store(self) -> TokenStore:
        return EncryptedTokenStore(self._shared(), self._box)

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self._store(), name)(*args)
        except RedisError as exc:
            log.warning("Redis unavailable for the token cache (%s); using process memory", type(exc).__name__)
            return None

    def get(self, key: str) -> Token | None:
        token = self._memory.get(key)
        if token is not None and token.fresh():
            return token
        shared: Token | None = self._call("get", key)
        if shared is not None:
            redaction.remember(shared.access_token)
            self._memory.set(key, shared)
            return shared
        return token  # stale or None: the caller fetches a new one

    def set(self, key: str, token: Token) -> None:
        counters.TOKEN_REQUESTS.inc()  # set only ever follows a fetch from Maventa
        redaction.remember(token.access_token)
        self._memory.set(key, token)
        self._call("set", key, token)

    def delete(self, key: str) -> None:
        self._memory.delete(key)
        self._call("delete", key)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._memory.lock(key):  # threads of this process wait here, without asking Redis
            try:
                lock = self._store().lock(key)
                lock.__enter__()
            except RedisError:
                yield
                return
            try:
                yield
            finally:
                with contextlib.suppress(RedisError):
                    lock.__exit__(None, None, None)
