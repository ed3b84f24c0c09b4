"""The extension's own translation domain, so its catalogues never mix with the host's.

The host's Flask-Babel locale selector decides the language. Strings in pure modules
(documents, pre-flight) are marked with ``N_`` and translated where they are shown.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel import Locale
from flask import current_app, g, has_request_context
from flask_babel import Domain, force_locale, get_locale
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape

from ..client.languages import language_of
from ..document.markers import N_  # noqa: F401 - re-exported for Flask-side modules

if TYPE_CHECKING:
    from .models import Connection

TRANSLATIONS_DIR = Path(__file__).parents[1] / "translations"
LANGUAGES = ("en", "nb", "fi", "sv")

domain = Domain(translation_directories=str(TRANSLATIONS_DIR), domain="maventa")


def _babel_ready() -> bool:
    return "babel" in current_app.extensions


def gettext(message: str, **variables: object) -> str:
    if not _babel_ready():
        return message % variables if variables else message
    locale = _locale_outside_request()
    if locale is None:  # in a request: the host's locale selector decides, through Flask-Babel
        return str(domain.gettext(message, **variables))
    text = str(_catalogue(locale).ugettext(message))
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    if not _babel_ready():
        variables.setdefault("num", num)
        return (singular if num == 1 else plural) % variables
    with _locale():
        return str(domain.ngettext(singular, plural, num, **variables))


def current_locale() -> str:
    """The language our pages are rendered in (``<html lang>``): the host's locale, else BABEL_DEFAULT_LOCALE."""
    if _babel_ready():
        return str(get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))


class LazyText(LazyString):
    """A translation rendered later that is plain *text*, never markup.

    Flask-Babel's ``LazyString.__html__`` returns the string unescaped, so markupsafe and Jinja
    would trust it whole -- parameters included, such as a host's status name. Here it is escaped
    like any other text; a message that really holds markup must say so with ``Markup`` itself.
    """

    def __init__(self, func: Callable[..., str], *args: object, **kwargs: object) -> None:
        LazyString.__init__(self, func, *args, **kwargs)  # Flask-Babel's, unannotated

    def __html__(self) -> Markup:
        return escape(str(self))


def lazy_gettext(message: str, **variables: object) -> LazyText:
    """Translated when rendered, through :func:`gettext`, so a host without Flask-Babel still works."""
    return LazyText(gettext, message, **variables)


def _locale() -> AbstractContextManager[object]:
    """In a request the host's locale selector decides. Outside one (RQ jobs, the sweep, the CLI) the
    selector usually cannot work -- it reads ``request`` -- so the app's ``BABEL_DEFAULT_LOCALE`` is used,
    unless the host chose one itself (``with flask_babel.force_locale("fi"): ...``)."""
    chosen = getattr(g.get("_flask_babel"), "babel_locale", None)  # where Flask-Babel keeps it per context
    if has_request_context() or chosen is not None:
        return nullcontext()
    return force_locale(_parsed(current_app.config.get("BABEL_DEFAULT_LOCALE", "en")))


def _locale_outside_request() -> str | None:
    """The locale of texts written outside a request (what :func:`_locale` would force), or None in a request."""
    if has_request_context():
        return None
    chosen = getattr(g.get("_flask_babel"), "babel_locale", None)
    return str(chosen) if chosen is not None else str(current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))


_catalogues: dict[str, Any] = {}


def _catalogue(locale: str) -> Any:
    """Our translations for ``locale``, loaded once per process: a worker writes texts for every invoice it
    sends, and going through Flask-Babel's context each time costs more than the rest of the step."""
    found = _catalogues.get(locale)
    if found is None:
        with force_locale(_parsed(locale)):
            found = _catalogues[locale] = domain.get_translations()
    return found


@functools.lru_cache(maxsize=64)
def _parsed(locale: str | Locale) -> Locale:
    """The locale, parsed once: every text a worker writes outside a request passes here, and parsing
    looks for the locale's data file each time."""
    return Locale.parse(locale)


def company_locale(connection: Connection) -> AbstractContextManager[object]:
    """Texts sent to a company -- its error emails -- are in its chosen language (the signing email's,
    ``connection.auth_locale``), else BABEL_DEFAULT_LOCALE: also inside a request, whose page may be in
    the admin's language. (Stored texts are never translated: see :mod:`.texts`.)"""
    if not _babel_ready():
        return nullcontext()
    chosen = language_of(connection.auth_locale, LANGUAGES)
    return force_locale(_parsed(chosen or str(current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))))


_ = gettext
