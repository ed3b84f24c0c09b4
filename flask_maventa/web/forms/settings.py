"""Forms of the settings section: the settings, Maventa's own-PDF print switch, the activation toggle.

The status selects do not check their choices themselves: an unknown status (or one of another
company) is judged by :func:`flask_maventa.services.settings.mapping_problems`, so the message is the same
wherever the rule is applied.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import Length

from ...host import InvoiceStatus
from ...services.settings import STATUS_FIELDS, StatusMapping
from ...services.versions import current_version
from . import VersionedForm, choice
from . import lazy_text as _l

if TYPE_CHECKING:
    from ...infra.models import Connection


SETTINGS_FIELDS = ("send_pdf", "send_customer_email", "error_emails", *STATUS_FIELDS)


def saved_values(connection: Connection) -> dict[str, Any]:
    """The connection's settings as the form shows them."""
    return {
        "send_pdf": bool(connection.send_pdf),
        "send_customer_email": bool(connection.send_customer_email),
        "error_emails": connection.error_emails or "",
        **{name: getattr(connection, name) or "" for name in STATUS_FIELDS},
    }


class SettingsForm(VersionedForm):
    send_pdf = BooleanField(_l("Send the invoice PDF with the invoice data"))
    send_customer_email = BooleanField(_l("Send the customer's email address"))
    error_emails = StringField(
        _l("Error email addresses"),
        validators=[Length(max=2000, message=_l("The list of addresses is too long."))],
    )
    transfer_status_id = SelectField(_l("Status of invoices to be transferred"), validate_choice=False)
    success_status_id = SelectField(_l("Status after a successful transfer"), validate_choice=False)
    failure_status_id = SelectField(_l("Status after a failed transfer"), validate_choice=False)
    # The values the form was made from (JSON): after a conflict only the fields the user changed are re-applied.
    base = HiddenField()

    def fill(self, statuses: Sequence[InvoiceStatus]) -> SettingsForm:
        """Offer the host's statuses of this company; the Sent ones are marked so the user sees why."""
        choices = [choice("", _l("Choose a status…"))] + [
            choice(s.id, _l("%(name)s (marked as Sent)", name=s.name) if s.is_sent else s.name) for s in statuses
        ]
        for name in STATUS_FIELDS:
            cast(SelectField, self[name]).choices = choices
        return self

    @classmethod
    def of(cls, connection: Connection, statuses: Sequence[InvoiceStatus],
           values: dict[str, Any] | None = None) -> SettingsForm:
        """The saved settings (or ``values``), not the request's, made from the connection's version now."""
        saved = saved_values(connection)
        form = cls(formdata=None, data={**saved, **(values or {}), "base": json.dumps(saved),
                                        "version": str(current_version(connection))})
        return form.fill(statuses)

    @property
    def values(self) -> dict[str, Any]:
        """What the user posted, as :func:`saved_values` has it."""
        return {name: bool(self[name].data) if name.startswith("send_") else (self[name].data or "")
                for name in SETTINGS_FIELDS}

    @property
    def base_values(self) -> dict[str, Any]:
        try:
            base = json.loads(self.base.data or "")
        except ValueError:
            return {}
        return base if isinstance(base, dict) else {}

    @property
    def mapping(self) -> StatusMapping:
        return StatusMapping(*(self[name].data or None for name in STATUS_FIELDS))


class PrintOwnPdfForm(VersionedForm):
    """Sets Maventa's ``send_invoice_print.use_own_pdf``: the button carries the wanted value.

    Turning it on makes every printed page chargeable, so it needs ``confirmed`` (the second step).
    """

    use_own_pdf = StringField()
    confirmed = StringField()

    @property
    def needs_confirmation(self) -> bool:
        return self.wanted and self.confirmed.data != "1"

    @property
    def wanted(self) -> bool:
        return (self.use_own_pdf.data or "").lower() in ("1", "on", "true", "yes")


class ActivationForm(VersionedForm):
    """The toggle: the button carries ``active=1`` (turn on) or ``active=0`` (turn off)."""

    active = StringField()

    @property
    def wanted(self) -> bool:
        return (self.active.data or "").lower() in ("1", "on", "true", "yes")
