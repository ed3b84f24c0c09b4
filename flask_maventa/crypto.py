"""Secrets at rest: the user API key is stored only as Fernet ciphertext.

``MAVENTA_SECRET_KEY`` holds one or more Fernet keys (comma-separated, newest first) so
keys can be rotated. Outside production a key is derived from the app's SECRET_KEY, so
the demo and tests need no extra setup; production refuses to start without a real key.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretBox:
    def __init__(self, keys: str | None, fallback_secret: str | bytes | None = None):
        self._fernet = MultiFernet([Fernet(k) for k in _keys(keys, fallback_secret)])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            # Never echo the token: it is a secret too.
            raise ValueError(
                "A stored Maventa API key cannot be decrypted: MAVENTA_SECRET_KEY changed. "
                "Put the old key after the new one (comma-separated) or enter the API key again."
            ) from None


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def fingerprint(secret: str) -> str:
    """A short, non-reversible name for a secret (for logs and token-cache keys)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def _keys(keys: str | None, fallback_secret: str | bytes | None) -> list[bytes]:
    if keys:
        return [k.strip().encode("ascii") for k in keys.split(",") if k.strip()]
    if not fallback_secret:
        raise ValueError("Set MAVENTA_SECRET_KEY (see `flask maventa generate-key`).")
    if isinstance(fallback_secret, str):
        fallback_secret = fallback_secret.encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"flask-maventa").derive(
        fallback_secret
    )
    return [base64.urlsafe_b64encode(derived)]
