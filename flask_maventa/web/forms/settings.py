"""Forms of the settings section: the settings, Maventa's own-PDF print switch, the activation toggle.

The status selects do not check their choices themselves: an unknown status (or one of another
company) is judged by :func:`flask_maventa.services.settings.mapping_problems`, so the message is the same
wherever the rule is applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length

from ...host import InvoiceStatus
from ...services.settings import STATUS_FIELDS, StatusMapping
from . import MaventaForm, choice
from . import lazy_text as _l

if TYPE_CHECKING:
    from ...infra.models import Connection


class SettingsForm(MaventaForm):
    send_pdf = BooleanField(_l("Send the invoice PDF with the invoice data"))
    send_customer_email = BooleanField(_l("Send the customer's email address"))
    error_emails = StringField(
        _l("Error email addresses"),
        validators=[Length(max=2000, message=_l("The list of addresses is too long."))],
    )
    transfer_status_id = SelectField(_l("Status of invoices to be transferred"), validate_choice=False)
    success_status_id = SelectField(_l("Status after a successful transfer"), validate_choice=False)
    failure_status_id = SelectField(_l("Status after a failed transfer"), validate_choice=False)

    def fill(self, statuses: Sequence[InvoiceStatus]) -> SettingsForm:
        """Offer the host's statuses of this company; the Sent ones are marked so the user sees why."""
        choices = [choice("", _l("Choose a status…"))] + [
            choice(s.id, _l("%(name)s (marked as Sent)", name=s.name) if s.is_sent else s.name) for s in statuses
        ]
        for name in STATUS_FIELDS:
            cast(SelectField, self[name]).choices = choices
        return self

    @classmethod
    def of(cls, connection: Connection, statuses: Sequence[InvoiceStatus]) -> SettingsForm:
        """The saved settings, not the request's (for a GET or a fresh section)."""
        form = cls(formdata=None, data={
            "send_pdf": connection.send_pdf,
            "send_customer_email": connection.send_customer_email,
            "error_emails": connection.error_emails or "",
            **{name: getattr(connection, name) or "" for name in STATUS_FIELDS},
        })
        return form.fill(statuses)

    @property
    def mapping(self) -> StatusMapping:
        return StatusMapping(*(self[name].data or None for name in STATUS_FIELDS))


class PrintOwnPdfForm(MaventaForm):
    """Sets Maventa's ``send_invoice_print.use_own_pdf``: the button carries the wanted value."""

    use_own_pdf = StringField()

    @property
    def wanted(self) -> bool:
        return (self.use_own_pdf.data or "").lower() in ("1", "on", "true", "yes")


class ActivationForm(MaventaForm):
    """The toggle: the button carries ``active=1`` (turn on) or ``active=0`` (turn off)."""

    active = StringField()

    @property
    def wanted(self) -> bool:
        return (self.active.data or "").lower() in ("1", "on", "true", "yes")
