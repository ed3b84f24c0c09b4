"""Check digits of the identifiers Nordic invoices carry: organisation numbers, payment
references (KID, Finnish viite, RF, OCR), IBAN and GLN. Pure functions returning bool."""

from __future__ import annotations

import re


def luhn_ok(digits: str) -> bool:
    """Mod 10 (Luhn): Swedish organisation numbers and OCR, Norwegian KID mod 10."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def mod11_no_ok(number: str) -> bool:
    """Norwegian organisation number (9 digits, weights 3 2 7 6 5 4 3 2)."""
    if not re.fullmatch(r"[0-9]{9}", number):
        return False
    s = sum(int(d) * w for d, w in zip(number[:8], (3, 2, 7, 6, 5, 4, 3, 2)))
    check = 11 - s % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(number[8])


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


def finnish_reference_ok(ref: str) -> bool:
    """Finnish national reference (viitenumero): 4-20 digits, weights 7 3 1 from the right."""
    ref = ref.replace(" ", "")
    if not re.fullmatch(r"[0-9]{4,20}", ref):
        return False
    body = ref[:-1]
    s = sum(int(d) * (7, 3, 1)[i % 3] for i, d in enumerate(reversed(body)))
    return (10 - s % 10) % 10 == int(ref[-1])


def _mod97(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text)) % 97


def rf_reference_ok(ref: str) -> bool:
    """ISO 11649 creditor reference: ``RF`` + 2 check digits + up to 21 characters."""
    ref = ref.replace(" ", "").upper()
    return bool(re.fullmatch(r"RF[0-9]{2}[0-9A-Z]{1,21}", ref)) and _mod97(ref[4:] + ref[:4]) == 1


def iban_ok(iban: str) -> bool:
    """IBAN: country, 2 check digits and up to 30 characters, mod 97 = 1."""
    iban = iban.replace(" ", "").upper()
    return bool(re.fullmatch(r"[A-Z]{2}[0-9]{2}[0-9A-Z]{8,30}", iban)) and _mod97(iban[4:] + iban[:4]) == 1


def looks_like_iban(account: str) -> bool:
    return bool(re.match(r"^[A-Za-z]{2}[0-9]{2}", account.replace(" ", "")))


def bic_ok(bic: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?", bic))


def gln_ok(gln: str) -> bool:
    """GS1 GLN (13 digits, mod 10 with weights 3/1 from the right)."""
    if not re.fullmatch(r"[0-9]{13}", gln):
        return False
    s = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(gln[:-1])))
    return (10 - s % 10) % 10 == int(gln[-1])
