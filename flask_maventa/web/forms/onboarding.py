"""Forms of the onboarding pages: Register, the credentials, the signing request, Refresh.

Choices come from the host adapter at request time. Checks that need Maventa happen in
:mod:`flask_maventa.services.registration`; its errors are put back on the field they name.
"""

from __future__ import annotations

from collections.abc import Sequence

from wtforms import Field, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, ValidationError

from ...document.identifiers import email_ok
from ...host import Company, Person
from ...services.onboarding import SIGNING_LOCALES, OnboardingError, parse_company_uuid
from . import MaventaForm, VersionedForm, choice
from . import lazy_text as _l

LOCALE_LABELS = {
    "FI": _l("Finnish"), "NO": _l("Norwegian"), "SE": _l("Swedish"), "EN": _l("English"),
    "NL": _l("Dutch"), "BE": _l("Belgian (Dutch/French)"),
}

# A company as the Register form offers it: (company, short reason, full reason), reasons None when eligible.
CompanyChoice = tuple[Company, str | None, str | None]


class RegisterForm(MaventaForm):
    """*Registrer*: the company (or an eligible department) and the person who gets the user account."""

    company = SelectField(_l("Company or department"), validate_choice=False,
                          validators=[DataRequired(_l("Choose the company to register."))])
    person = SelectField(_l("Person who gets the Maventa user account"), validate_choice=False,
                         validators=[DataRequired(_l("Choose the person who gets the Maventa user account."))])

    def fill(self, companies: Sequence[CompanyChoice], persons: Sequence[Person]) -> None:
        """``companies``: (company, short reason, full reason), the reasons None for one that can be chosen;
        ones with a reason are shown disabled and refused with the full reason if posted anyway."""
        self._companies = {c.id: (c, full if short else None) for c, short, full in companies}
        self._persons = {p.id: p for p in persons}
        self.company.choices = [choice("", _l("Choose…"))] + [
            choice(c.id, c.name + (f" — {short}" if short else ""), {"disabled": True} if short else {})
            for c, short, _full in companies
        ]
        self.person.choices = [choice("", _l("Choose…"))] + [
            choice(p.id, f"{p.name} <{p.email}>") for p in persons]

    def validate_company(self, field: Field) -> None:
        entry = self._companies.get(field.data)
        if entry is None:
            raise ValidationError(_l("Choose one of the listed companies."))
        if entry[1]:
            raise ValidationError(entry[1])

    def validate_person(self, field: Field) -> None:
        if field.data not in self._persons:
            raise ValidationError(_l("Choose one of the persons of this company."))

    @property
    def chosen_company(self) -> Company:
        return self._companies[str(self.company.data)][0]

    @property
    def chosen_person(self) -> Person:
        return self._persons[str(self.person.data)]


class CredentialsForm(VersionedForm):
    """The User API key (*Bruker api-nøkkel*) and Company UUID (*Firma uuid*) from Maventa."""

    api_key = StringField(_l("User API key"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    company_uuid = StringField(_l("Company UUID"), render_kw={"autocomplete": "off", "spellcheck": "false",
                                                              "placeholder": "123e4567-e89b-12d3-a456-426614174000"})
    # The key the user pasted, sealed (services.onboarding.seal_key), when the form is shown again after a conflict.
    sealed_key = HiddenField()

    def validate_company_uuid(self, field: Field) -> None:
        try:
            field.data = parse_company_uuid(field.data)
        except OnboardingError as exc:
            raise ValidationError(exc.message) from None

    def validate_api_key(self, field: Field) -> None:
        if not (field.data or "").strip() and not self.sealed_key.data:
            raise ValidationError(_l("Enter the User API key from Maventa."))


class SigningForm(VersionedForm):
    """*Send autentikasjon forespørsel*: approver, the email for the invitation, its language."""

    approver = SelectField(_l("Approver"), validate_choice=False,
                           validators=[DataRequired(_l("Choose the person who may sign for the company."))])
    email = StringField(_l("Email address for authentication"), render_kw={"type": "email", "autocomplete": "off"})
    locale = SelectField(_l("Email language"), validate_choice=False)

    def fill(self, persons: Sequence[Person]) -> None:
        self._persons = {p.id: p for p in persons}
        self.approver.choices = [choice("", _l("Choose…"))] + [choice(p.id, p.name) for p in persons]
        # Labels translated now, in the user's language (not once at import).
        self.locale.choices = [choice(code, f"{LOCALE_LABELS[code]} ({code})") for code in SIGNING_LOCALES]

    def validate_approver(self, field: Field) -> None:
        if field.data not in self._persons:
            raise ValidationError(_l("Choose one of the persons of this company."))

    def validate_email(self, field: Field) -> None:
        field.data = (field.data or "").strip()
        if not field.data and self.approver.data in self._persons:
            # Empty is the approver's own address: what htmx fills in on choosing them, and all a page
            # without JavaScript can do (the field is validated after the approver, who is known here).
            field.data = self._persons[str(self.approver.data)].email or ""
        if not email_ok(field.data):
            raise ValidationError(_l("Enter a valid email address, like name@example.com."))

    def validate_locale(self, field: Field) -> None:
        if field.data not in SIGNING_LOCALES:
            raise ValidationError(_l("Choose one of the languages Maventa sends this email in."))

    @property
    def chosen_approver(self) -> Person:
        return self._persons[str(self.approver.data)]


class ActionForm(MaventaForm):
    """A button that only needs its CSRF token (Refresh)."""


class DisconnectForm(VersionedForm):
    """The confirmation of *Disconnect from Maventa*."""
