"""How many of the official fatal rules pre-flight catches before rendering, printed as JSON.

    python benchmarks/preflight_coverage.py [--rules-dir ../shared/peppol]

Reads every fatal assertion of the CEN EN 16931 and Peppol BIS 3.0 rule files, runs the
mutation corpus of ``tests/ubl/mutations.py`` through pre-flight, and renders each mutation
(without pre-flight) through the official validator to count only mutations that really break
their rule. Also times pre-flight against the official rules on the same documents (the ratio
is how much cheaper the pre-flight check is).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flask_maventa.document.findings import DocumentError  # noqa: E402
from flask_maventa.document.invoice import InvoiceDocument  # noqa: E402
from flask_maventa.document.preflight import check_document  # noqa: E402
from flask_maventa.document.ubl import write_ubl  # noqa: E402
from tests.ubl.coverage import coverage, run_all  # noqa: E402
from tests.ubl.mutations import MUTATIONS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules-dir", type=Path,
                        default=Path(os.environ.get("PEPPOL_SHARED_DIR") or REPO / ".." / "shared" / "peppol"),
                        help="folder with validate_peppol.py and rules/ (default ../shared/peppol)")
    args = parser.parse_args()
    rules_dir = args.rules_dir.resolve()
    sys.path.insert(0, str(rules_dir))
    validator = importlib.import_module("validate_peppol").Validator(rules_dir=rules_dir)

    start = time.perf_counter()
    outcomes = run_all(validator)
    result = coverage(rules_dir, outcomes)
    result["seconds"] = round(time.perf_counter() - start, 2)

    docs = []
    for mutations in MUTATIONS.values():
        with contextlib.suppress(DocumentError):  # refused by the JSON form itself: nothing to time
            docs.append(InvoiceDocument.from_json(mutations[0].apply()))
    t0 = time.process_time()
    for d in docs:
        check_document(d)
    preflight_cpu = time.process_time() - t0
    xmls = [write_ubl(d)[0] for d in docs]
    t0 = time.process_time()
    for x in xmls:
        validator.validate_bytes(x)
    official_cpu = time.process_time() - t0
    result["cpu_ms_per_document"] = {"preflight": round(preflight_cpu * 1000 / len(docs), 3),
                                     "official_rules_baseline": round(official_cpu * 1000 / len(docs), 3),
                                     "ratio": round(official_cpu / preflight_cpu, 1) if preflight_cpu else None}
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
