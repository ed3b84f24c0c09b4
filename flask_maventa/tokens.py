"""The token cache the running extension uses: Redis, shared by every web and worker process.

When Redis is down the pages must keep working, so the cache falls back to process
memory instead of failing a request that could simply fetch a token.
"""

from __future__ import annotations

import contextlib
import logging

from redis.exceptions import RedisError

from .client import MemoryTokenStore, RedisTokenStore, TokenStore

log = logging.getLogger("flask_maventa.tokens")


class ResilientTokenStore(TokenStore):
    def __init__(self, redis_factory):
        self._redis_factory = redis_factory
        self._memory = MemoryTokenStore()

    def _store(self) -> TokenStore:
        return RedisTokenStore(self._redis_factory())

    def _call(self, name, *args):
        try:
            return getattr(self._store(), name)(*args)
        except RedisError as exc:
            log.warning("Redis unavailable for the token cache (%s); using process memory", type(exc).__name__)
            return getattr(self._memory, name)(*args)

    def get(self, key):
        return self._call("get", key)

    def set(self, key, token):
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
