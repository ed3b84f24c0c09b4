"""Forms of the transfer log: the filters (GET, no CSRF) and the retry action (POST, CSRF)."""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from . import MaventaForm, choice
from . import lazy_text as _l

STATE_CHOICES = [choice(v, label) for v, label in [
    ("", _l("All states")), ("queued", _l("Queued")), ("sending", _l("Sending")), ("in_doubt", _l("Checking")),
    ("accepted", _l("Accepted")), ("delivered", _l("Delivered")), ("failed", _l("Failed")),
]]


class TransferFilterForm(MaventaForm):
    """Read from the query string; a bad value is shown inline and ignored."""

    class Meta:
        csrf = False

    company = SelectField(_l("Company"), validate_choice=False, validators=[Optional()])
    state = SelectField(_l("State"), choices=STATE_CHOICES, validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    number = StringField(_l("Invoice number"), validators=[Optional(), Length(max=64)])


class RetryForm(MaventaForm):
    """Retry failed transfers: the checked ``ids`` (bulk) or one button's ``ids`` value.

    Only the CSRF token is a declared field: the ids are a plain multi-value list, checked by the view.
    """
