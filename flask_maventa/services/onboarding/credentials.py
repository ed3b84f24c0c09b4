"""The credentials as pasted on the page: the User API key and the Company UUID, checked before anything
is sent to Maventa, the stored key shown masked, and a pasted key sealed while a form waits after a conflict."""

from __future__ import annotations

import uuid as uuidlib

from ...infra import redaction
from ...infra.crypto import SecretUnreadable
from ...infra.models import Connection
from ...infra.state import current_state
from ...infra.texts import T_ as _  # the page shows an error now, the audit trail keeps it untranslated
from ...infra.texts import Msg
from .errors import OnboardingError

# What the page shows in the key field instead of the stored key (never the key itself).
MASK_CHAR = "\u2022"


def masked_key(connection: Connection | None) -> str:
    """What the key field shows for a stored key: dots and the last four characters, never more.

    Empty when there is none, or when MAVENTA_SECRET_KEY cannot read it (the user enters it again).
    """
    if connection is None or not connection.api_key_encrypted:
        return ""
    try:
        key = current_state().api_key(connection)
    except SecretUnreadable:
        return ""
    return MASK_CHAR * 12 + (key[-4:] if len(key) > 12 else "")


MAX_API_KEY = 255


def _not_ascii(text: str, field: str, what: Msg) -> None:
    """Credentials are ASCII: a pasted value with anything else (a typographic quote, an invisible space,
    a letter from a word processor) is refused before it is sent, naming the character and its place."""
    bad = next(((i, c) for i, c in enumerate(text) if not (c.isascii() and c.isprintable())), None)
    if bad is not None:
        position, char = bad
        shown = char if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"
        raise OnboardingError(
            _("%(what)s can only contain the letters A\u2013Z, digits and punctuation, but character %(position)s is "
              "\u201c%(char)s\u201d. Copy it again from Maventa (Settings > Company settings), without anything "
              "around it.", what=what, position=position + 1, char=shown),
            field=field, code="not_ascii")


def check_api_key(key: str) -> str:
    """The pasted User API key, trimmed, or :class:`OnboardingError` saying what is wrong with it (nothing is
    sent to Maventa before it passes)."""
    key = key.strip()
    if not key:
        raise OnboardingError(_("Enter the User API key from Maventa."), field="api_key")
    if MASK_CHAR in key:
        raise OnboardingError(
            _("Enter the whole User API key, or leave the masked value unchanged to keep the stored key."),
            field="api_key")
    _not_ascii(key.replace(" ", ""), "api_key", _("The User API key"))
    if len(key) > MAX_API_KEY:
        raise OnboardingError(
            _("This is not a User API key: it has %(length)s characters, and a User API key has at most %(max)s. "
              "Copy only the key from Maventa (Settings > Company settings).", length=len(key), max=MAX_API_KEY),
            field="api_key", code="too_long")
    if any(c.isspace() for c in key):
        raise OnboardingError(_("This is not a User API key: it must not contain spaces."), field="api_key")
    return key


SEALED_PREFIX = "maventa-form-key:"
SEALED_SECONDS = 15 * 60


def seal_key(key: str) -> str:
    """A pasted key for a form shown again after a conflict, encrypted like a stored key (never the key
    itself on a page) and readable for :data:`SEALED_SECONDS`, so the user re-applies it in one click."""
    return current_state().secrets().encrypt(SEALED_PREFIX + key)


def unseal_key(token: str) -> str | None:
    """The key :func:`seal_key` sealed, or None when it is too old, tampered with or not one."""
    try:
        text = current_state().secrets().decrypt(token, ttl=SEALED_SECONDS)
    except SecretUnreadable:
        return None
    if not text.startswith(SEALED_PREFIX):
        return None
    key = text[len(SEALED_PREFIX):]
    redaction.remember(key)
    return key


def parse_company_uuid(value: str | None) -> str:
    text = (value or "").strip()
    _not_ascii(text, "company_uuid", _("The Company UUID"))
    try:
        parsed = uuidlib.UUID(text)
    except ValueError:
        parsed = None
    if parsed is None or len(text) != 36:
        raise OnboardingError(
            _("This is not a Company UUID. It looks like 123e4567-e89b-12d3-a456-426614174000; copy it from "
              "Maventa (Settings > Company settings)."),
            field="company_uuid",
        )
    return str(parsed)
