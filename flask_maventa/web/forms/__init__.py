"""Flask-WTF forms, one module per area (onboarding, settings, transfers), on one base form."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm

_FROM_REQUEST = object()


class MaventaForm(FlaskForm):
    """A form that reads only the posted form fields.

    Flask-WTF would also take a JSON body (``[1, 2]`` or a deeply nested one breaks the form before
    any check runs) and uploaded files (a file where text is expected); neither is ever ours, so a
    field sent that way is simply missing and the form says so.
    """

    def __init__(self, formdata=_FROM_REQUEST, **kwargs):
        if formdata is _FROM_REQUEST:
            formdata = request.form if request.method in ("POST", "PUT", "PATCH", "DELETE") else None
        super().__init__(formdata=formdata, **kwargs)
