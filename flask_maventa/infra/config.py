"""Every ``MAVENTA_*`` key the extension reads, with its default: one place for all of them.

A key spelled wrong in the host's config is an error at start-up (the Flask-Security
habit), so a typo can never silently fall back to a default.
"""

from __future__ import annotations

import difflib

from flask import Flask

from .crypto import BadSecretKey, SecretBox

DEFAULTS: dict[str, object] = {
    # Pages
    "MAVENTA_URL_PREFIX": "/settings/integrations/maventa",
    "MAVENTA_BASE_TEMPLATE": "maventa/layout.html",
    "MAVENTA_TIMEZONE": None,  # IANA zone of the times on our pages; None: BABEL_DEFAULT_TIMEZONE, else UTC
    # Maventa
    "MAVENTA_ENVIRONMENT": "test",  # production | test | sandbox
    "MAVENTA_SANDBOX_URL": "http://127.0.0.1:8780",
    "MAVENTA_VENDOR_API_KEY": None,
    "MAVENTA_SCOPE": None,  # None: the scopes the client's operations need (client/scopes.py), e.g. "eui"
    "MAVENTA_HTTP_TIMEOUT": 30.0,
    "MAVENTA_HTTP_CONNECT_TIMEOUT": 10.0,
    "MAVENTA_PARTNER_COMPANY_UUID": None,  # optional: a partner account for business-id look-ups
    "MAVENTA_PARTNER_API_KEY": None,
    "MAVENTA_WEBHOOK_BASE_URL": None,  # public URL of this app; None: delivery status by polling only
    # Secrets
    "MAVENTA_SECRET_KEY": None,  # Fernet key(s), comma-separated, newest first; required in production
    # Background jobs
    "MAVENTA_REDIS_URL": "redis://localhost:6379/0",
    "MAVENTA_QUEUE": "maventa",
    "MAVENTA_SWEEP_INTERVAL": 60,
    "MAVENTA_SWEEP_BATCH": 500,  # transfers created per transaction; a sweep takes every due invoice
    "MAVENTA_SEND_CONCURRENCY": 8,  # sends (and status reads) in flight per worker process
    "MAVENTA_DISPATCH_INTERVAL": 5,  # seconds between the scheduler's lease checks and dispatches
    "MAVENTA_HEARTBEAT_TIMEOUT": 60,  # seconds without a heartbeat after which a worker counts as dead
    "MAVENTA_SQLITE_WAL": True,  # on SQLite, workers switch the database file to write-ahead logging
    "MAVENTA_RETRY_SCHEDULE": (30, 120, 600, 1800, 3600),
    "MAVENTA_LEASE_SECONDS": 300,
    "MAVENTA_POLL_SCHEDULE": (60, 300, 900, 3600, 21600),
    "MAVENTA_SIGNING_POLL_SCHEDULE": (15, 30, 60, 300, 900, 3600),
    "MAVENTA_STUCK_MINUTES": 30,
    # Error emails: the default mailer (the host's Flask-Mailman / Flask-Mail if it has one, else this SMTP server)
    "MAVENTA_MAIL_SERVER": "localhost",
    "MAVENTA_MAIL_PORT": 25,
    "MAVENTA_MAIL_USE_TLS": False,  # STARTTLS on a plain connection (port 587), the certificate verified
    "MAVENTA_MAIL_USE_SSL": False,  # TLS from the first byte (port 465), the certificate verified
    "MAVENTA_MAIL_USERNAME": None,
    "MAVENTA_MAIL_PASSWORD": None,
    "MAVENTA_MAIL_SENDER": None,  # None: the host mail extension's default sender, else maventa@localhost
    # Documents
    "MAVENTA_PEPPOL_RULES_DIR": None,  # the official rule files; None: our own checks only
}

ENVIRONMENTS = ("production", "test", "sandbox")
LOOPBACK = ("localhost", "127.0.0.1", "::1")


class ConfigurationError(RuntimeError):
    """The host app's configuration cannot work; the message says how to fix it."""


def apply_defaults(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)


def check(app: Flask) -> None:
    """Refuse unknown keys and impossible values at start-up, naming the fix."""
    config = app.config
    for key in config:
        if key.startswith("MAVENTA_") and key not in DEFAULTS:
            close = difflib.get_close_matches(key, DEFAULTS, n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise ConfigurationError(
                f"Unknown config key {key}.{hint} The keys flask-maventa reads are listed in its README."
            )
    env = config["MAVENTA_ENVIRONMENT"]
    if env not in ENVIRONMENTS:
        raise ConfigurationError(
            f"MAVENTA_ENVIRONMENT is {env!r}; set it to one of {', '.join(ENVIRONMENTS)}."
        )
    if env == "production":
        for key in ("MAVENTA_SECRET_KEY", "MAVENTA_VENDOR_API_KEY"):
            if not config.get(key):
                raise ConfigurationError(
                    f"{key} is required when MAVENTA_ENVIRONMENT is 'production'. "
                    + (
                        "Generate one with `flask maventa generate-key` and keep it out of the repository."
                        if key == "MAVENTA_SECRET_KEY"
                        else "It is your partner 'Software API key' from Maventa."
                    )
                )
    if not config.get("MAVENTA_SECRET_KEY") and not app.secret_key:
        raise ConfigurationError(
            "flask-maventa encrypts API keys at rest and needs MAVENTA_SECRET_KEY "
            "(or at least the app's SECRET_KEY outside production)."
        )
    scope = config["MAVENTA_SCOPE"]
    if scope:
        from ..client.scopes import COMPANY_SCOPE, uncovered

        missing = uncovered(str(scope))
        if missing:
            raise ConfigurationError(
                f"MAVENTA_SCOPE {scope!r} cannot call {', '.join(missing)}. Leave it unset (the client asks for "
                f"{COMPANY_SCOPE!r}) or use 'eui'."
            )
    try:  # a malformed key would otherwise surface as a 500 on the first page that reads a secret
        SecretBox(config.get("MAVENTA_SECRET_KEY"), app.secret_key)
    except BadSecretKey as exc:
        raise ConfigurationError(str(exc)) from None
    if config["MAVENTA_MAIL_USE_TLS"] and config["MAVENTA_MAIL_USE_SSL"]:
        raise ConfigurationError(
            "Set only one of MAVENTA_MAIL_USE_TLS (STARTTLS, usually port 587) and MAVENTA_MAIL_USE_SSL "
            "(TLS from the start, usually port 465)."
        )
    if (env == "production" and config["MAVENTA_MAIL_USERNAME"] and not config["MAVENTA_MAIL_USE_TLS"]
            and not config["MAVENTA_MAIL_USE_SSL"] and config["MAVENTA_MAIL_SERVER"] not in LOOPBACK):
        raise ConfigurationError(
            "MAVENTA_MAIL_USERNAME is set but neither MAVENTA_MAIL_USE_TLS nor MAVENTA_MAIL_USE_SSL is: "
            "the SMTP password would cross the network in clear. Turn one of them on."
        )
    from .clock import ZoneUnknown, zone_of

    try:
        zone_of(config)
    except ZoneUnknown as exc:
        raise ConfigurationError(str(exc)) from None
    prefix = config["MAVENTA_URL_PREFIX"]
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise ConfigurationError(f"MAVENTA_URL_PREFIX must start with '/', got {prefix!r}.")
    for key in ("MAVENTA_SWEEP_INTERVAL", "MAVENTA_SWEEP_BATCH", "MAVENTA_SEND_CONCURRENCY",
                "MAVENTA_DISPATCH_INTERVAL", "MAVENTA_HEARTBEAT_TIMEOUT", "MAVENTA_LEASE_SECONDS"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigurationError(f"{key} must be a positive number, got {value!r}.")
    for key in ("MAVENTA_RETRY_SCHEDULE", "MAVENTA_POLL_SCHEDULE", "MAVENTA_SIGNING_POLL_SCHEDULE"):
        schedule = config[key]
        if not schedule or any(not isinstance(s, (int, float)) or s < 0 for s in schedule):
            raise ConfigurationError(f"{key} must be a non-empty list of seconds, got {schedule!r}.")
