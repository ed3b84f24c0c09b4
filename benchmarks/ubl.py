"""How fast the UBL builder is: invoices per second and CPU ms per invoice, printed as JSON.

    python benchmarks/ubl.py [--seconds 2]

Two documents: a 20-line invoice with a 100 KB embedded PDF (the usual case; target well
under 10 ms CPU each) and a 500-line invoice. Each figure includes the pre-flight document
checks that build_ubl runs, not the official Schematron rules (those are optional and slow).
The baseline, measured in the same run, is lxml parsing and serialising the same XML (the
floor of any UBL writer); the ratio is build_ubl's time over it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lxml import etree

from flask_maventa.document.invoice import AllowanceCharge, InvoiceDocument, InvoiceLine
from flask_maventa.document.ubl import build_ubl

BASE = Path(__file__).resolve().parents[1] / "tests" / "ubl" / "cases" / "no_domestic_basic.json"


def invoice(lines: int) -> InvoiceDocument:
    doc = InvoiceDocument.from_json(BASE.read_bytes())
    rates = [Decimal(25), Decimal(15), Decimal(12)]
    return dataclasses.replace(doc, lines=tuple(
        InvoiceLine(name=f"Konsulenttime {i} — prosjekt «Fjord» & co", quantity=Decimal(i % 7 + 1) / 2,
                    unit_price=Decimal("1234.50") + i, vat_category="S", vat_rate=rates[i % 3], unit_code="HUR",
                    allowances_charges=(AllowanceCharge(amount=Decimal("10.00"), reason="Rabatt"),)
                    if i % 5 == 0 else ())
        for i in range(1, lines + 1)))


def _cpu_ms(fn, seconds: float) -> tuple[float, int, float]:
    fn()  # warm up
    count, cpu0, wall0 = 0, time.process_time(), time.perf_counter()
    while time.perf_counter() - wall0 < seconds:
        fn()
        count += 1
    return (time.process_time() - cpu0) * 1000 / count, count, time.perf_counter() - wall0


def measure(doc: InvoiceDocument, pdf: bytes | None, seconds: float) -> dict:
    xml = build_ubl(doc, pdf=pdf)
    cpu, count, wall = _cpu_ms(lambda: build_ubl(doc, pdf=pdf), seconds)
    baseline, _, _ = _cpu_ms(lambda: etree.tostring(etree.fromstring(xml)), seconds / 2)
    return {"invoices": count, "invoices_per_second": round(count / wall, 1),
            "cpu_ms_per_invoice": round(cpu, 3), "xml_bytes": len(xml),
            "baseline_lxml_parse_serialise_ms": round(baseline, 3), "ratio": round(cpu / baseline, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent on each document")
    args = parser.parse_args()
    pdf = b"%PDF-1.4\n" + os.urandom(100 * 1024)
    result = {
        "20_lines_with_100kb_pdf": measure(invoice(20), pdf, args.seconds),
        "500_lines": measure(invoice(500), None, args.seconds),
        "target_cpu_ms_per_20_line_invoice": 10,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
