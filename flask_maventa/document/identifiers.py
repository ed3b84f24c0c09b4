"""Check digits and formats of the identifiers Nordic invoices carry. Pure functions returning bool.

python-stdnum does the standard ones (organisation numbers, VAT numbers, IBAN, BIC, GLN, RF
references); the Norwegian KID and the Finnish reference number, which stdnum lacks, are here.
Email addresses are checked by email-validator, for their syntax only (no network look-up).
Where a Peppol rule defines an identifier's format itself (PEPPOL-COMMON-R040..R053, the
scheme-specific formats of party identifiers), :func:`scheme_value_ok` follows that rule
exactly, so pre-flight never refuses what the official rules accept and the other way round.

The checks are remembered (:data:`remembered`): a company's own identifiers -- its organisation and VAT
numbers, its account -- are on every invoice it sends, and stdnum's checks cost more than the rest of
the pre-flight together.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from email_validator import EmailNotValidError, validate_email
from stdnum import bic as _bic
from stdnum import ean, iban, iso11649, luhn, vatin
from stdnum.exceptions import ValidationError
from stdnum.gr import vat as _gr_vat
from stdnum.no import orgnr as _no_orgnr
from stdnum.se import orgnr as _se_orgnr

remembered = functools.lru_cache(maxsize=4096)
"""The answer for a value already checked (pure functions of their text): bounded, thread-safe."""


def email_ok(value: str | None) -> bool:
    """An email address as a person or an invoice gives it: ``name@example.com``, syntax only (no DNS)."""
    if not value or value != value.strip():
        return False
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@remembered
def luhn_ok(digits: str) -> bool:
    """Mod 10 (Luhn): Swedish organisation numbers and OCR, Norwegian KID mod 10."""
    return digits.isdigit() and luhn.is_valid(digits)


@remembered
def mod11_no_ok(number: str) -> bool:
    """Norwegian organisation number (9 digits, mod 11) -- PEPPOL-COMMON-R041, NO-R-001."""
    return bool(re.fullmatch(r"[0-9]{9}", number)) and _no_orgnr.is_valid(number)


@remembered
def se_orgnr_ok(number: str) -> bool:
    """Swedish organisation number: 10 digits, Luhn check digit -- PEPPOL-COMMON-R049, SE-R-003/004/013."""
    return bool(re.fullmatch(r"[0-9]{10}", number)) and _se_orgnr.is_valid(number)


@remembered
def kid_ok(kid: str) -> bool:
    """Norwegian KID: 2-25 digits with a mod 10 or mod 11 check digit ("-" allowed as mod 11 check)."""
    if not re.fullmatch(r"[0-9]{1,24}[0-9-]", kid):
        return False
    if kid[-1] != "-" and luhn_ok(kid):
        return True
    body, weights = kid[:-1], [2, 3, 4, 5, 6, 7]
    s = sum(int(d) * weights[i % 6] for i, d in enumerate(reversed(body)))
    check = 11 - s % 11
    expected = "0" if check == 11 else "-" if check == 10 else str(check)
    return kid[-1] == expected


@remembered
def finnish_reference_ok(ref: str) -> bool:
    """Finnish national reference (viitenumero): 4-20 digits, weights 7 3 1 from the right."""
    ref = ref.replace(" ", "")
    if not re.fullmatch(r"[0-9]{4,20}", ref):
        return False
    body = ref[:-1]
    s = sum(int(d) * (7, 3, 1)[i % 3] for i, d in enumerate(reversed(body)))
    return (10 - s % 10) % 10 == int(ref[-1])


@remembered
def rf_reference_ok(ref: str) -> bool:
    """ISO 11649 creditor reference: ``RF`` + 2 check digits + up to 21 characters."""
    return iso11649.is_valid(ref)


@remembered
def iban_ok(value: str) -> bool:
    """IBAN: country, check digits and the country's length and format."""
    return iban.is_valid(value)


def looks_like_iban(account: str) -> bool:
    return bool(re.match(r"^[A-Za-z]{2}[0-9]{2}", account.replace(" ", "")))


@remembered
def bic_ok(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Z0-9]{8}([A-Z0-9]{3})?", value)) and _bic.is_valid(value)


@remembered
def gln_ok(gln: str) -> bool:
    """GS1 GLN (13 digits, GS1 check digit)."""
    return bool(re.fullmatch(r"[0-9]{13}", gln)) and ean.is_valid(gln)


@remembered
def greek_tin_ok(tin: str) -> bool:
    """Greek TIN (AFM): 9 digits with a mod 11 check digit -- the GR-R rules' u:TinVerification."""
    return bool(re.fullmatch(r"[0-9]{9}", tin)) and _gr_vat.is_valid(tin)


def _gs1_ok(value: str) -> bool:
    """PEPPOL-COMMON-R040: digits with a GS1 check digit (any length, as the rule computes it)."""
    if not re.fullmatch(r"[0-9]{2,}", value):
        return False
    s = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(value[:-1])))
    return (10 - s % 10) % 10 == int(value[-1])


def _be_enterprise_ok(value: str) -> bool:
    """PEPPOL-COMMON-R043: 10 digits, the last two 97 - (first eight mod 97)."""
    return bool(re.fullmatch(r"[0-9]{10}", value)) and int(value[8:]) == 97 - int(value[:8]) % 97


def _abn_ok(value: str) -> bool:
    """PEPPOL-COMMON-R050: Australian Business Number, 11 digits, weighted sum mod 89."""
    if not re.fullmatch(r"[0-9]{11}", value):
        return False
    weights = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
    digits = enumerate(zip(weights, value, strict=True))  # 11 weights, 11 digits
    return sum(w * (int(d) - (1 if i == 0 else 0)) for i, (w, d) in digits) % 89 == 0


SCHEME_RULES: dict[str, tuple[str, Callable[[str], bool]]] = {
    "0088": ("PEPPOL-COMMON-R040", _gs1_ok),
    "0192": ("PEPPOL-COMMON-R041", mod11_no_ok),
    "0184": ("PEPPOL-COMMON-R042", lambda v: bool(re.fullmatch(r"DK[0-9]{8}|[0-9]{8}", v))),
    "0208": ("PEPPOL-COMMON-R043", _be_enterprise_ok),
    "0007": ("PEPPOL-COMMON-R049", se_orgnr_ok),
    "0151": ("PEPPOL-COMMON-R050", _abn_ok),
    "0096": ("PEPPOL-COMMON-R052", lambda v: bool(re.fullmatch(r"[0-9]{10}", v))),
    "0198": ("PEPPOL-COMMON-R053", lambda v: bool(re.fullmatch(r"DK[0-9]{8}", v))),
}
"""The identifier formats the Peppol rules check, per ICD/EAS scheme: rule id and check."""


@remembered
def scheme_value_ok(scheme: str | None, value: str) -> bool:
    """Whether ``value`` has the format Peppol requires for ``scheme`` (any value for other schemes)."""
    rule = SCHEME_RULES.get(scheme or "")
    return rule is None or rule[1](value)


@remembered
def vat_number_valid(vat: str) -> bool | None:
    """The country's own VAT number check (format and check digits) by python-stdnum; ``None``
    when stdnum does not know the country."""
    try:
        vatin._get_cc_module(vat[:2])
    except ValidationError:
        return None
    return vatin.is_valid(vat)
