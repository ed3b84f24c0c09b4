"""The one map between languages (ISO 639-1, as hosts and our catalogues name them) and Maventa's codes.

Maventa names a language by a country-like code: the invoice's ``lang``, and the signing email's
``locale`` (a subset, :data:`~flask_maventa.client.account.SIGNING_LOCALES`).
"""

from __future__ import annotations

from collections.abc import Collection

MAVENTA_LANGUAGES = {"nb": "NO", "nn": "NO", "no": "NO", "fi": "FI", "sv": "SE", "da": "DK", "nl": "NL", "en": "EN"}


def maventa_language(language: str | None) -> str | None:
    """Maventa's code for ``language`` (``"nb"``, ``"fi-FI"``, ``"SV"``), or None when Maventa has none."""
    return MAVENTA_LANGUAGES.get((language or "").replace("_", "-").split("-")[0].strip().lower())


def language_of(code: str | None, among: Collection[str]) -> str | None:
    """The first of ``among`` (our catalogues' languages) that Maventa's ``code`` stands for, or None."""
    return next((language for language, its in MAVENTA_LANGUAGES.items() if its == code and language in among), None)
