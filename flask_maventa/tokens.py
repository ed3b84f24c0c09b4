"""The token cache the running extension uses: Redis, shared by every web and worker process.

When Redis is down the pages must keep working, so the cache falls back to process
memory instead of failing a request that could simply fetch a token.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from .client import MemoryTokenStore, RedisTokenStore, TokenStore

log = logging.getLogger("flask_maventa.tokens")


class ResilientTokenStore(TokenStore):
    def __init__(self, redis_factory):
        self._redis_factory = redis_factory
        self._memory = MemoryTokenStore()

    def _call(self, name, *args, **kwargs):
        try:
            return getattr(RedisTokenStore(self._redis_factory()), name)(*args, **kwargs)
        except RedisError as exc:
            log.warning("Redis unavailable for the token cache (%s); using process memory", type(exc).__name__)
            return getattr(self._memory, name)(*args, **kwargs)

    def get(self, key):
        return self._call("get", key)

    def set(self, key, token, expires_at):
        return self._call("set", key, token, expires_at)

    def delete(self, key):
        return self._call("delete", key)
