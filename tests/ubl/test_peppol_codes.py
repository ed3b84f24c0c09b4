"""The code lists in flask_maventa.document.codes are exactly those of the official rule files."""

from __future__ import annotations

import pytest

from flask_maventa.document import codes as peppol_codes

from .rulecodes import code_lists


def test_code_lists_match_the_rule_files(peppol_dir):
    lists = code_lists(peppol_dir)
    for name, codes in lists.items():
        assert getattr(peppol_codes, name) == codes, name


@pytest.mark.parametrize("withdrawn", ["0037", "0147", "0154", "0170", "0177", "0193", "0194", "0212", "0213"])
def test_withdrawn_schemes_are_not_endpoint_schemes(withdrawn):
    assert withdrawn in peppol_codes.WITHDRAWN_EAS and withdrawn not in peppol_codes.EAS


def test_national_schemes_exist_in_the_code_lists():
    for country, schemes in peppol_codes.ENDPOINT_SCHEMES.items():
        assert set(schemes) <= peppol_codes.EAS, country
    assert set(peppol_codes.LEGAL_ID_SCHEMES.values()) <= peppol_codes.ICD
    assert set(peppol_codes.WITHDRAWN_EAS_REPLACEMENT.values()) <= peppol_codes.EAS
