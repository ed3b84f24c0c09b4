"""The customer cards: where a user fixes what a failed invoice needs -- the e-invoice address, the
email, the postal address -- before pressing Retry in the Maventa transfer log.

A plain form (no JavaScript needed): a valid post saves and redirects back to the card (303); an
invalid one changes nothing and shows the card again with each error next to its field.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from flask_maventa.document import codes as peppol_codes
from flask_maventa.document.identifiers import email_ok, scheme_value_ok

from .models import Customer, Invoice, db
from .views import bp

COUNTRIES = ("NO", "SE", "FI", "DK")
# Post codes of the Nordic countries the ERP invoices: Norway and Denmark 4 digits, Finland 5,
# Sweden 5 (written "123 45").
POST_CODE = {"NO": r"[0-9]{4}", "DK": r"[0-9]{4}", "FI": r"[0-9]{5}", "SE": r"[0-9]{3} ?[0-9]{2}"}
EIA = re.compile(r"([0-9]{4}):(\S+)")


def blank_is_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


class CustomerForm(FlaskForm):
    email = StringField(_l("Invoicing email"), filters=[blank_is_none],
                        validators=[Optional(), Length(max=200)], render_kw={"type": "email", "autocomplete": "off"})
    einvoice_address = StringField(
        _l("E-invoice address"), filters=[lambda v: blank_is_none(v.replace(" ", "") if v else v)],
        validators=[Optional(), Length(max=105)],
        description=_l("Peppol scheme and identifier, e.g. 0192:975312461 (a Norwegian organisation number)."))
    einvoice_operator = StringField(
        _l("E-invoice operator"), filters=[blank_is_none], validators=[Optional(), Length(max=40)],
        description=_l("Leave empty unless the customer named one: with an operator Maventa tries no other "
                       "route."))
    street = StringField(_l("Street address"), filters=[blank_is_none], validators=[Optional(), Length(max=200)])
    post_code = StringField(_l("Post code"), filters=[blank_is_none], validators=[Optional(), Length(max=16)])
    city = StringField(_l("City"), filters=[blank_is_none], validators=[Optional(), Length(max=100)])
    country = SelectField(_l("Country"), validators=[InputRequired()])

    def validate_email(self, field):
        if field.data and not email_ok(field.data):
            raise ValidationError(_l("Enter a valid email address, like name@example.com."))

    def validate_einvoice_address(self, field):
        if not field.data:
            return
        match = EIA.fullmatch(field.data)
        if not match:
            raise ValidationError(_l("Write the address as scheme:identifier, e.g. 0192:975312461."))
        scheme, value = match.groups()
        replacement = peppol_codes.WITHDRAWN_EAS_REPLACEMENT.get(scheme)
        if scheme in peppol_codes.WITHDRAWN_EAS:
            raise ValidationError(_l("Peppol no longer accepts the scheme %(scheme)s; use %(replacement)s.",
                                     scheme=scheme, replacement=replacement or "0216"))
        if scheme not in peppol_codes.EAS:
            raise ValidationError(_l("%(scheme)s is not a Peppol address scheme (0192 is Norway's "
                                     "organisation number, 0216 Finland's OVT code, 0007 Sweden's).", scheme=scheme))
        if not scheme_value_ok(scheme, value):
            raise ValidationError(_l("%(value)s is not a valid identifier for scheme %(scheme)s: check the digits.",
                                     value=value, scheme=scheme))

    def validate_einvoice_operator(self, field):
        if field.data and not self.einvoice_address.data:
            raise ValidationError(_l("An operator needs an e-invoice address; fill in the address or clear "
                                     "the operator."))

    def validate_post_code(self, field):
        pattern = POST_CODE.get(self.country.data or "")
        if field.data and pattern and not re.fullmatch(pattern, field.data):
            raise ValidationError(_l("This is not a post code of %(country)s.",
                                     country=country_name(self.country.data)))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # A postal address is the street, the post code and the city together (or none of them).
        parts = (self.street, self.post_code, self.city)
        if any(p.data for p in parts) and not all(p.data for p in parts):
            for part in parts:
                if not part.data:
                    part.errors = [*part.errors, _l("A postal address needs street, post code and city; "
                                                    "fill this in or clear the other two.")]
            valid = False
        return valid


def country_name(code: str) -> str:
    return get_locale().territories.get(code, code)


def customer_form(customer: Customer, formdata=None) -> CustomerForm:
    form = CustomerForm(formdata=formdata, obj=customer)
    codes = COUNTRIES if customer.country in COUNTRIES else (*COUNTRIES, customer.country)
    form.country.choices = [SelectChoice(code, country_name(code)) for code in codes]
    return form


@bp.get("/customers")
def customers():
    rows = db.session.scalars(sa.select(Customer).order_by(Customer.name))
    return render_template("example/customers.html", customers=list(rows))


@bp.route("/customers/<int:customer_id>", methods=["GET", "POST"])
def customer(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    form = customer_form(customer, formdata=request.form if request.method == "POST" else None)
    if request.method == "POST":
        if form.validate():
            customer.email = form.email.data
            customer.einvoice_scheme, customer.einvoice_id = (
                form.einvoice_address.data.split(":", 1) if form.einvoice_address.data else (None, None))
            customer.einvoice_operator = form.einvoice_operator.data
            customer.street, customer.post_code, customer.city = form.street.data, form.post_code.data, form.city.data
            customer.country = form.country.data
            db.session.commit()
            flash(_l("Customer card saved."), "success")
            return redirect(url_for("example.customer", customer_id=customer.id), 303)
        status = 422  # the card again, with the errors; nothing was saved
    else:
        status = 200
    invoices = db.session.scalars(sa.select(Invoice).where(Invoice.customer_id == customer.id)
                                  .order_by(Invoice.number))
    return render_template("example/customer.html", customer=customer, form=form, invoices=list(invoices)), status
