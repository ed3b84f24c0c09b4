"""The token cache the running extension uses: Redis, shared by every web and worker process.

A bearer token is a secret: in Redis it is stored encrypted with MAVENTA_SECRET_KEY (a token written
under a key that is gone since reads as missing, and a new one is fetched), and every token this
process handles is remembered for scrubbing. When Redis is down the pages must keep working, so the
cache falls back to process memory instead of failing a request that could simply fetch a token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging

from redis.exceptions import RedisError

from . import redaction
from .client import MemoryTokenStore, RedisTokenStore, Token, TokenStore
from .crypto import SecretBox, SecretUnreadable

log = logging.getLogger("flask_maventa.tokens")


class EncryptedTokenStore(TokenStore):
    """Another store, with the access token encrypted on the way in and decrypted on the way out."""

    def __init__(self, store: TokenStore, box: SecretBox):
        self._store = store
        self._box = box

    def get(self, key):
        token = self._store.get(key)
        if token is None:
            return None
        try:
            return dataclasses.replace(token, access_token=self._box.decrypt(token.access_token))
        except SecretUnreadable:
            return None  # written under a retired key, or not by us: fetch a new one

    def set(self, key, token: Token):
        self._store.set(key, dataclasses.replace(token, access_token=self._box.encrypt(token.access_token)))

    def delete(self, key):
        self._store.delete(key)

    def lock(self, key):
        return self._store.lock(key)


class ResilientTokenStore(TokenStore):
    def __init__(self, redis_factory, box: SecretBox):
        self._redis_factory = redis_factory
        self._box = box
        self._memory = MemoryTokenStore()

    def _store(self) -> TokenStore:
        return EncryptedTokenStore(RedisTokenStore(self._redis_factory()), self._box)

    def _call(self, name, *args):
        try:
            return getattr(self._store(), name)(*args)
        except RedisError as exc:
            log.warning("Redis unavailable for the token cache (%s); using process memory", type(exc).__name__)
            return getattr(self._memory, name)(*args)

    def get(self, key):
        token = self._call("get", key)
        if token is not None:
            redaction.remember(token.access_token)
        return token

    def set(self, key, token):
        redaction.remember(token.access_token)
        return self._call("set", key, token)

    def delete(self, key):
        return self._call("delete", key)

    @contextlib.contextmanager
    def lock(self, key):
        try:
            lock = self._store().lock(key)
            lock.__enter__()
        except RedisError:
            with self._memory.lock(key):
                yield
            return
        try:
            yield
        finally:
            with contextlib.suppress(RedisError):
                lock.__exit__(None, None, None)
