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

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
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


def remember(secret: str | None) -> None:
    """Note a secret that passes through this process, so it is scrubbed wherever it turns up."""
    if not isinstance(secret, str) or len(secret) < MIN_LENGTH:
        return
    with _lock:
        _recent[secret] = None
        _recent.move_to_end(secret)
        while len(_recent) > RECENT_LIMIT:
            _recent.popitem(last=False)


def remember_config(config: Mapping[str, Any]) -> None:
    """The app's own secrets (vendor and partner keys, mail password, the secret keys) -- kept for good."""
    for key in SECRET_CONFIG_KEYS:
        for value in _config_values(config.get(key), key):
            with _lock:
                _pinned.add(value)


def _config_values(value: object, key: str) -> list[str]:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return []
    parts = [p.strip() for p in value.split(",")] if key == "MAVENTA_SECRET_KEY" else [value]
    return [p for p in parts if len(p) >= MIN_LENGTH]


def known_secrets() -> list[str]:
    """Every secret this process knows of, longest first (so a secret inside another goes whole)."""
    with _lock:
        found = set(_pinned) | set(_recent)
    if has_app_context():
        for key in SECRET_CONFIG_KEYS:
            found.update(_config_values(current_app.config.get(key), key))
    return sorted(found, key=len, reverse=True)


def scrub_text(text: str, secrets: list[str] | None = None) -> str:
    for secret in known_secrets() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub(value: Any, secrets: list[str] | None = None) -> Any:
    """A copy of ``value`` with every secret replaced: by field name in mappings, by value everywhere."""
    secrets = known_secrets() if secrets is None else secrets
    if isinstance(value, dict):
        return {scrub_text(str(k), secrets): REDACTED if _SECRET_NAME.search(str(k)) else scrub(v, secrets)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, str):
        return scrub_text(value, secrets)
    return value


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
