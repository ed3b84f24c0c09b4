"""Secrets never reach a row, a page or a log line: they are replaced by value, wherever they appear.

Maventa (or a proxy in front of it) may echo what it was sent -- a refused token request answering
with the posted form, an error quoting the ``Authorization`` header -- so redacting fields by *name*
is not enough. Every secret that passes through this process is remembered here (the User API keys
when they are decrypted or typed in, bearer tokens when cached or read, webhook secrets when made or
presented, the app's configured keys at start-up) and :func:`scrub_text` replaces each one wherever
it appears. Patterns catch the usual shapes of secrets we have not seen (``Bearer …``,
``client_secret=…``, the secret part of a webhook path).

Applied without any caller's help: the text and JSON columns that hold messages (:class:`ScrubbedText`,
:class:`ScrubbedJSON`), every page the blueprint renders, and the extension's loggers and the access
loggers (:data:`SECRET_FILTER`).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context

REDACTED = "[redacted]"
MIN_LENGTH = 8  # shorter values would redact ordinary words; such a secret is too weak to matter here
RECENT_LIMIT = 1024  # an echo comes right after the secret was used, so the recent ones suffice

# Config keys whose values are secrets.
SECRET_CONFIG_KEYS = ("MAVENTA_VENDOR_API_KEY", "MAVENTA_PARTNER_API_KEY", "MAVENTA_MAIL_PASSWORD",
                      "MAVENTA_SECRET_KEY", "SECRET_KEY")

_SECRET_NAME = re.compile(r"(api_key|apikey|secret|token|password|authorization)", re.I)
_PATTERNS = (
    # client_secret=…, "vendor_api_key": "…", password: … (form bodies, JSON and reprs echoed as text)
    (re.compile(r"""(\b(?:client_secret|vendor_api_key|user_api_key|api_key|access_token|refresh_token|"""
                r"""password|webhook_secret)\b["']?\s*[:=]\s*["']?)[^\s"'&,;}\]]+""", re.I), r"\1" + REDACTED),
    (re.compile(r"\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}", re.I), r"\1 " + REDACTED),
    # POST <prefix>/webhooks/<connection id>/<secret>, e.g. in an access log line
    (re.compile(r"(/webhooks/\d+/)[A-Za-z0-9_-]{8,}"), r"\1" + REDACTED),
)

_pinned: set[str] = set()  # configured secrets of every app initialised in this process
_recent: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()
_version = 0  # bumped whenever the set of remembered secrets changes
_cached: tuple[Any, tuple[str, ...]] = (None, ())  # (what it was computed from, the secrets longest first)

# Text shorter than this can hold no known secret (MIN_LENGTH) and match no pattern: nothing to scrub.
_SHORTEST_MATCH = MIN_LENGTH
# Every pattern needs one of these words (in any case); text without any (most text) skips the patterns.
_WORDS = ("client_secret", "api_key", "access_token", "refresh_token", "password", "webhook_secret", "bearer",
          "/webhooks/")
_PATTERN_WORDS = re.compile("|".join(map(re.escape, _WORDS)), re.I)


def _may_match_a_pattern(text: str) -> bool:
    if text.isascii():  # ASCII text lower-cases exactly as the patterns' re.I compares: a plain search will do
        lowered = text.lower()
        return any(word in lowered for word in _WORDS)
    return _PATTERN_WORDS.search(text) is not None  # re.I folds some non-ASCII letters too (long s, Kelvin)


def remember(secret: str | None) -> None:
    """Note a secret that passes through this process, so it is scrubbed wherever it turns up."""
    global _version
    if not isinstance(secret, str) or len(secret) < MIN_LENGTH:
        return
    with _lock:
        if secret in _recent:  # the usual case: a token or key used again
            _recent.move_to_end(secret)
            return
        _recent[secret] = None
        while len(_recent) > RECENT_LIMIT:
            _recent.popitem(last=False)
        _version += 1


def remember_config(config: Mapping[str, Any]) -> None:
    """The app's own secrets (vendor and partner keys, mail password, the secret keys) -- kept for good."""
    global _version
    for key in SECRET_CONFIG_KEYS:
        for value in _config_values(config.get(key), key):
            with _lock:
                if value not in _pinned:
                    _pinned.add(value)
                    _version += 1


def _config_values(value: object, key: str) -> list[str]:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return []
    parts = [p.strip() for p in value.split(",")] if key == "MAVENTA_SECRET_KEY" else [value]
    return [p for p in parts if len(p) >= MIN_LENGTH]


def known_secrets() -> tuple[str, ...]:
    """Every secret this process knows of, longest first (so a secret inside another goes whole).

    Worked out again only when the remembered secrets or the current app's secret settings change:
    every event, log line and page is scrubbed with it.
    """
    global _cached
    if has_app_context():
        settings = current_app.config  # one context lookup, not one per key
        config: tuple[Any, ...] | None = tuple(settings.get(key) for key in SECRET_CONFIG_KEYS)
    else:
        config = None
    basis, secrets = _cached
    if basis == (_version, config):
        return secrets
    with _lock:
        basis = (_version, config)
        found = set(_pinned) | set(_recent)
    if config is not None:
        for key, value in zip(SECRET_CONFIG_KEYS, config, strict=True):
            found.update(_config_values(value, key))
    secrets = tuple(sorted(found, key=len, reverse=True))
    _cached = (basis, secrets)
    return secrets


def scrub_text(text: str, secrets: Sequence[str] | None = None) -> str:
    if len(text) < _SHORTEST_MATCH:
        return text
    if secrets is None:
        secrets = known_secrets()
    memo = _memo_for(secrets) if len(text) <= _MEMO_LENGTH else None
    if memo is not None:
        clean = memo.get(text)
        if clean is not None:
            return clean
    clean = text
    for secret in secrets:
        if secret in clean:
            clean = clean.replace(secret, REDACTED)
    if _may_match_a_pattern(clean):
        for pattern, replacement in _PATTERNS:
            clean = pattern.sub(replacement, clean)
    if memo is not None:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[text] = clean
    return clean


# Short texts come again and again (field names, states, formats, the same messages): their scrubbed
# form is remembered for one set of secrets -- a new set starts an empty memo, so a text is never
# served as scrubbed of fewer secrets than are known.
_MEMO_LENGTH = 256
_MEMO_LIMIT = 8192
_memo: tuple[Sequence[str], dict[str, str]] = ((), {})


def _memo_for(secrets: Sequence[str]) -> dict[str, str]:
    global _memo
    known, memo = _memo
    if known is not secrets and known != secrets:
        memo = {}
        _memo = (secrets, memo)
    return memo


def scrub(value: Any, secrets: Sequence[str] | None = None) -> Any:
    """A copy of ``value`` with every secret replaced: by field name in mappings, by value everywhere."""
    secrets = known_secrets() if secrets is None else secrets
    if isinstance(value, dict):
        return {scrub_text(str(k), secrets): REDACTED if _secret_name(str(k)) else scrub(v, secrets)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, str):
        return scrub_text(value, secrets)
    return value


@functools.lru_cache(maxsize=1024)
def _secret_name(key: str) -> bool:
    """Whether a mapping key names a secret (the same few keys come again and again)."""
    return _SECRET_NAME.search(key) is not None


# -- storage: columns that can never hold a secret ------------------------------------------------


class ScrubbedText(sa.types.TypeDecorator[str]):
    """Text scrubbed on its way into the database -- by ORM, bulk UPDATE or INSERT alike."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else scrub_text(str(value))  # str(): a lazy translation too


class ScrubbedJSON(sa.types.TypeDecorator[Any]):
    """JSON whose strings (and secret-named fields) are scrubbed on their way into the database."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        return scrub(value) if value is not None else None


# -- logs ---------------------------------------------------------------------------------------------


class SecretFilter(logging.Filter):
    """Scrubs a record's message and traceback. Attach it to any logger or handler that may see a
    secret -- a server's access log, which has the webhook path, above all."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logging's problem, not ours
            return True
        clean = scrub_text(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        return True


SECRET_FILTER = SecretFilter()
# Loggers outside the extension that may see a secret: access logs write request paths (the webhook
# secret is in one), RQ's worker logs a failed job's exception.
OTHER_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "rq.worker")


def install_log_filter() -> None:
    """Put :data:`SECRET_FILTER` on every ``flask_maventa`` logger and on :data:`OTHER_LOGGERS`.

    A logger's filters do not apply to its children's records, so each logger gets its own: call this
    once the modules that log are imported.
    """
    names = [name for name in list(logging.root.manager.loggerDict)
             if name == "flask_maventa" or name.startswith("flask_maventa.")]
    for name in [*names, *OTHER_LOGGERS]:
        logger = logging.getLogger(name)
        if SECRET_FILTER not in logger.filters:
            logger.addFilter(SECRET_FILTER)
