"""Secrets at rest: User API keys (and the bearer tokens cached in Redis) are stored only as Fernet tokens.

``MAVENTA_SECRET_KEY`` holds one or more Fernet keys (comma-separated, newest first): the first one
encrypts, every one decrypts, so a new key can be put in front and the stored secrets re-encrypted
with ``flask maventa rotate-secrets`` before the old key is removed. Outside production a key is
derived from the app's SECRET_KEY, so the demo and tests need no extra setup; production refuses to
start without a real key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..document.markers import N_

# What a page says when a stored secret cannot be read (translated where shown).
UNREADABLE = N_("The stored key cannot be decrypted with MAVENTA_SECRET_KEY \u2014 was it changed?")
UNREADABLE_HINT = N_("Put the key it was stored with back into MAVENTA_SECRET_KEY, after the new one "
                     "(comma-separated), or enter the User API key again.")


class SecretUnreadable(ValueError):
    """A stored secret was encrypted with a key that MAVENTA_SECRET_KEY no longer holds."""

    def __init__(self) -> None:
        super().__init__(f"{UNREADABLE} {UNREADABLE_HINT}")


class BadSecretKey(ValueError):
    """MAVENTA_SECRET_KEY holds something that is not a Fernet key (the message never repeats it)."""


class SecretBox:
    def __init__(self, keys: str | None, fallback_secret: str | bytes | None = None):
        found = _keys(keys, fallback_secret)
        self._keys = [_fernet(key, n, len(found)) for n, key in enumerate(found, 1)]
        self._fernet = MultiFernet(self._keys)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str, ttl: int | None = None) -> str:
        """``ttl``: refuse a token made longer ago than this many seconds."""
        try:
            return self._fernet.decrypt(token.encode("ascii"), ttl=ttl).decode()
        except (InvalidToken, UnicodeEncodeError):
            raise SecretUnreadable() from None  # never echo the token: it is a secret too

    def readable(self, token: str) -> bool:
        try:
            self.decrypt(token)
        except SecretUnreadable:
            return False
        return True

    def rotate(self, token: str) -> str | None:
        """``token`` re-encrypted with the newest key, or None when it already is (nothing to write).

        Raises :class:`SecretUnreadable` when no key of MAVENTA_SECRET_KEY can read it.
        """
        data = token.encode("ascii", "replace")
        try:
            self._keys[0].decrypt(data)
            return None
        except InvalidToken:
            pass
        try:
            return self._fernet.rotate(data).decode("ascii")
        except InvalidToken:
            raise SecretUnreadable() from None


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def fingerprint(secret: str) -> str:
    """A short, non-reversible name for a secret (for logs and token-cache keys)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def _fernet(key: bytes, n: int, count: int) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, binascii.Error):
        which = f"key {n} of {count}" if count > 1 else "the key"
        raise BadSecretKey(
            f"MAVENTA_SECRET_KEY is not usable: {which} is not a Fernet key (32 bytes, url-safe base64, "
            "44 characters). Generate one with `flask maventa generate-key`; several keys are "
            "comma-separated, newest first.") from None


def _keys(keys: str | None, fallback_secret: str | bytes | None) -> list[bytes]:
    if keys:
        if not isinstance(keys, str):
            raise BadSecretKey("MAVENTA_SECRET_KEY must be a string of comma-separated Fernet keys.")
        found = [k.strip().encode("ascii", "replace") for k in keys.split(",") if k.strip()]
        if found:
            return found
    if not fallback_secret:
        raise BadSecretKey("Set MAVENTA_SECRET_KEY (see `flask maventa generate-key`).")
    if isinstance(fallback_secret, str):
        fallback_secret = fallback_secret.encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"flask-maventa").derive(
        fallback_secret
    )
    return [base64.urlsafe_b64encode(derived)]
