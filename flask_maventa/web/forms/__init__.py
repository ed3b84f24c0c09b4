"""Flask-WTF forms, one module per area (onboarding, settings, transfers), on one base form."""

from __future__ import annotations

from typing import Any, cast

from flask import request
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; its stubs lag

from ...infra.i18n import lazy_gettext

__all__ = ["MaventaForm", "VersionedForm", "choice", "lazy_text"]

_FROM_REQUEST = object()


def lazy_text(message: str, **variables: object) -> str:
    """A label or message translated when rendered, in the user's language (not once at import).

    WTForms turns labels and messages into text with ``str()``; its stubs say ``str``, so this is where
    our lazy text is passed for one.
    """
    return cast(str, lazy_gettext(message, **variables))


def choice(value: str, label: str, render_kw: dict[str, Any] | None = None) -> Any:
    """One option of a select (WTForms 3.3's ``SelectChoice``: tuples are deprecated)."""
    return SelectChoice(value, label, render_kw or {})


class MaventaForm(FlaskForm):
    """A form that reads only the posted form fields.

    Flask-WTF would also take a JSON body (``[1, 2]`` or a deeply nested one breaks the form before
    any check runs) and uploaded files (a file where text is expected); neither is ever ours, so a
    field sent that way is simply missing and the form says so.
    """

    def __init__(self, formdata: Any = _FROM_REQUEST, **kwargs: Any) -> None:
        if formdata is _FROM_REQUEST:
            formdata = request.form if request.method in ("POST", "PUT", "PATCH", "DELETE") else None
        super().__init__(formdata=formdata, **kwargs)  # type: ignore[no-untyped-call]  # Flask-WTF's, unannotated

    def csrf_field(self) -> Markup:
        """The hidden CSRF token input, without an id (a page holds several forms); nothing when the host
        turned CSRF off (``WTF_CSRF_ENABLED = False``, as many hosts do in their own tests): the form then
        has no such field, and calling it would break the page."""
        field = self._fields.get(self.meta.csrf_field_name) if self.meta.csrf else None
        return Markup(field(id=False)) if field is not None else Markup("")

    def show_error(self, message: str, field: str | None = None) -> None:
        """Show a service's error next to the field it names (or above the form)."""
        found = getattr(self, field, None) if field else None
        if found is not None and found.name != "csrf_token":
            found.errors = [*found.errors, message]
        else:
            self.form_errors.append(message)


class VersionedForm(MaventaForm):
    """A form that changes a connection: it carries the connection's version it was made from, so a save
    made from an older one is refused (:mod:`flask_maventa.services.versions`)."""

    version = HiddenField()

    def showing(self, version: int) -> VersionedForm:
        """Carry ``version`` (the connection's now), e.g. for a form filled again after a conflict."""
        self.version.data = str(version)
        return self

    @property
    def seen_version(self) -> int | None:
        from ...services.versions import parse_version

        return parse_version(self.version.data)
