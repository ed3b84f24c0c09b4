"""The registration service's small rules, without HTTP."""

from __future__ import annotations

import pytest

from flask_maventa import Company
from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection
from flask_maventa.services import onboarding as registration

pytestmark = pytest.mark.usefixtures("app")  # messages are translated in the app's context


@pytest.mark.parametrize("maventa_bid,ours,vat,same", [
    ("923456789", "923456789", None, True),
    ("NO923456789MVA", "923456789", None, True),
    ("FI12345678", "1234567-8", "FI12345678", True),
    ("987654321", "923456789", "NO923456789MVA", False),
    ("", "923456789", None, True),  # Maventa gave none: nothing to compare
])
def test_business_ids_compare_without_their_formatting(maventa_bid, ours, vat, same):
    company = Company("x", "X AS", ours, "NO", vat_number=vat)
    from flask_maventa.services.onboarding.registration import _same_business

    assert _same_business(maventa_bid, company) is same


@pytest.mark.parametrize("text", ["0b0e7a8e-1d2c-4c53-9d3f-9a1d2b3c4d5e", " 0B0E7A8E-1D2C-4C53-9D3F-9A1D2B3C4D5E "])
def test_company_uuid_is_normalised(text):
    assert registration.parse_company_uuid(text) == "0b0e7a8e-1d2c-4c53-9d3f-9a1d2b3c4d5e"


@pytest.mark.parametrize("text", ["{0b0e7a8e-1d2c-4c53-9d3f-9a1d2b3c4d5e}", "urn:uuid:0b0e7a8e-1d2c-4c53-9d3f-9a1d2b3c4d5e",
                                  "0b0e7a8e1d2c4c539d3f9a1d2b3c4d5e", "x" * 36, None])
def test_company_uuid_in_another_shape_is_refused(text):
    with pytest.raises(registration.OnboardingError) as caught:
        registration.parse_company_uuid(text)
    assert caught.value.field == "company_uuid"


def test_masked_key_shows_only_dots_and_the_last_four(app):
    secrets = current_maventa().secrets()
    long_key = Connection(api_key_encrypted=secrets.encrypt("abcdefghijklmnopqrstuvwx1234"))
    short_key = Connection(api_key_encrypted=secrets.encrypt("short"))
    assert registration.masked_key(long_key) == "•" * 12 + "1234"
    assert registration.masked_key(short_key) == "•" * 12  # a short key would be given away by its tail
    assert registration.masked_key(None) == "" and registration.masked_key(Connection()) == ""


@pytest.mark.parametrize("email,ok", [
    ("kari@fjord.example", True), ("æsa@fjord.example", True), ("kari@fjord", False), ("a b@c.example", False),
    ("a@b.example,c@d.example", False), ("Kari <kari@fjord.example>", False), (" kari@fjord.example", False),
    ("kari@@fjord.example", False), ("", False), (None, False), ("x" * 250 + "@fjord.example", False),
])
def test_one_email_check_for_every_form(email, ok):
    """email-validator, syntax only (no DNS): the signing form, the error addresses and the example ERP agree."""
    from flask_maventa.document.identifiers import email_ok
    from flask_maventa.services.settings import parse_error_emails

    assert email_ok(email) is ok
    if email and "," not in email and email == email.strip():  # the list splits at commas, trims each
        assert (parse_error_emails(email)[1] == []) is ok


@pytest.mark.parametrize("company_id", ["c" * 65, "c\x001"])
def test_a_company_whose_id_we_cannot_keep_is_refused_before_maventa_is_asked(company_id):
    company = Company(company_id, "Long AS", "923456789", "NO", vat_number="NO923456789MVA")
    with pytest.raises(registration.OnboardingError) as caught:
        registration.connect_existing(company, "0b0e7a8e-1d2c-4c53-9d3f-9a1d2b3c4d5e", "a-user-api-key")
    assert caught.value.field == "company" and "64" in caught.value.message
    assert current_maventa().session.query(Connection).count() == 0
