"""Read the code lists straight out of the official rule files (to check peppol_codes against them)."""

from __future__ import annotations

import re
from pathlib import Path


def _cen_list(text: str, rule_id: str, index: int = 0) -> set[str]:
    at = text.find(f"[{rule_id}]")
    test = text[text.rfind('test="', 0, at):at]
    return set(re.findall(r"contains\(\s*'([^']+)'", test)[index].split())


def _peppol_let(text: str, name: str) -> set[str]:
    return set(re.search(rf'<let name="{name}" value="tokenize\(\'([^\']+)\'', text).group(1).split())


def code_lists(rules_dir: Path) -> dict[str, set[str]]:
    cen = (rules_dir / "rules" / "CEN-EN16931-UBL.xslt").read_text(encoding="utf-8")
    peppol = (rules_dir / "rules" / "PEPPOL-EN16931-UBL.sch").read_text(encoding="utf-8")
    eas_cen = _cen_list(cen, "BR-CL-25")
    eas = _peppol_let(peppol, "eaid")
    return {
        "EAS": eas,
        "WITHDRAWN_EAS": eas_cen - eas,
        "ICD": _cen_list(cen, "BR-CL-11"),
        "VATEX": {c.upper() for c in _cen_list(cen, "BR-CL-22")},
        "ALLOWANCE_REASONS": _peppol_let(peppol, "UNCL5189"),
        "CHARGE_REASONS": _peppol_let(peppol, "UNCL7161"),
        "PAYMENT_MEANS": _cen_list(cen, "BR-CL-16"),
        "MIME_CODES": _peppol_let(peppol, "MIMECODE"),
        "COUNTRIES": _peppol_let(peppol, "ISO3166"),
        "CURRENCIES": _peppol_let(peppol, "ISO4217"),
        "UNIT_CODES": _cen_list(cen, "BR-CL-23"),
        "VAT_CATEGORIES": _peppol_let(peppol, "UNCL5305"),
        "INVOICE_TYPE_CODES_UNTDID": _cen_list(cen, "BR-CL-01"),
        "CREDIT_NOTE_TYPE_CODES_UNTDID": _cen_list(cen, "BR-CL-01", 1),
        "OBJECT_SCHEMES": _cen_list(cen, "BR-CL-07"),
        "ITEM_CLASSIFICATION_SCHEMES": _cen_list(cen, "BR-CL-13"),
        "VAT_PREFIXES": _cen_list(cen, "BR-CO-09"),
        "NOTE_SUBJECT_CODES": _cen_list(cen, "BR-CL-08"),
        "TAX_POINT_DATE_CODES": _cen_list(cen, "BR-CL-06") & _peppol_let(peppol, "UNCL2005"),
    }
