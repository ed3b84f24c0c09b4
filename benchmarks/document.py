"""CPU per invoice of the document pipeline a worker runs for each send, printed as JSON.

    python benchmarks/document.py [--repeats 7] [--iterations 300]

The steps of ``services/transfer/sending.py`` ``_prepare`` and the upload, in order, on the
transfer tests' invoice (``tests/transfer/conftest.py`` ``invoice_json``) with a 100 KB PDF:
``InvoiceDocument.from_json`` (the dict the host adapter gives), ``build_ubl`` (its pre-flight
checks included; with and without the PDF) and ``invoice_zip``; ``total`` runs the three
together. Each figure is CPU ms per invoice (``time.thread_time``), min/median/max over the repeats.

The baseline, measured in the same run, is the work no implementation can avoid: ``json.loads``
of the invoice's JSON text, ``base64.b64encode`` of the PDF and a ``b"".join`` of the XML and PDF
(as large as the ZIP's members). ``ratio`` is total over baseline (median of each repeat's ratio).
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import invoice_document, pdf_bytes

from flask_maventa.client.package import invoice_zip
from flask_maventa.document.invoice import InvoiceDocument
from flask_maventa.document.ubl import build_ubl, pdf_attachment_filename


def _cpu_ms(fn: Callable[[], object], iterations: int) -> float:
    started = time.thread_time()
    for _ in range(iterations):
        fn()
    return (time.thread_time() - started) * 1000 / iterations


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 4), "median": round(statistics.median(values), 4),
            "max": round(max(values), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="measurements of each figure")
    parser.add_argument("--iterations", type=int, default=300, help="invoices per measurement")
    args = parser.parse_args()

    data = invoice_document("BENCH-1")
    text = json.dumps(data)
    pdf = pdf_bytes(100)
    doc = InvoiceDocument.from_json(data)
    name = pdf_attachment_filename(doc)
    xml = build_ubl(doc, pdf=pdf, pdf_filename=name)

    def total() -> None:
        document = InvoiceDocument.from_json(data)
        filename = pdf_attachment_filename(document)
        invoice_zip(build_ubl(document, pdf=pdf, pdf_filename=filename), pdf, filename)

    def baseline() -> None:
        json.loads(text)
        base64.b64encode(pdf)
        b"".join((xml, pdf))

    steps: dict[str, Callable[[], object]] = {
        "from_json": lambda: InvoiceDocument.from_json(data),
        "build_ubl_with_pdf": lambda: build_ubl(doc, pdf=pdf, pdf_filename=name),
        "build_ubl_without_pdf": lambda: build_ubl(doc),
        "invoice_zip": lambda: invoice_zip(xml, pdf, name),
        "total": total,
        "baseline": baseline,
    }
    for fn in steps.values():  # warm up (caches, allocator)
        for _ in range(20):
            fn()
    runs: dict[str, list[float]] = {key: [] for key in steps}
    for _ in range(args.repeats):  # interleaved, so a busy moment of the machine hits every figure alike
        for key, fn in steps.items():
            runs[key].append(_cpu_ms(fn, args.iterations))
    ratios = [t / b for t, b in zip(runs["total"], runs["baseline"], strict=True)]
    result = {
        "cpu_ms_per_invoice": {key: _spread(values) for key, values in runs.items()},
        "ratio_total_to_baseline": round(statistics.median(ratios), 2),
        "repeats": args.repeats, "iterations": args.iterations,
        "xml_bytes": len(xml), "pdf_bytes": len(pdf), "json_bytes": len(text),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
