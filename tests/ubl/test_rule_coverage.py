"""Pre-flight catches the official fatal rules first: the mutation corpus generated from the rule
files (see ``mutations.py``), checked against pre-flight and against the official validator."""

from __future__ import annotations

import pytest

from flask_maventa.document.findings import DocumentError
from flask_maventa.document.invoice import InvoiceDocument
from flask_maventa.document.preflight import check_document
from flask_maventa.document.ubl import build_ubl

from .conftest import CASES, load_case, pdf_for
from .coverage import coverage, run_all, schema_has
from .mutations import MUTATIONS, NOT_CARRIED, UNCAUGHT, WRITER, WRITER_PROOFS, classify
from .rulebook import fatal_rules

# ``outcomes`` runs every mutation through the official validator (~15 s of CPU): once, on one xdist worker.
pytestmark = pytest.mark.xdist_group("rule-coverage")


@pytest.fixture(scope="session")
def outcomes(validator):
    """Every mutation through pre-flight and, rendered without pre-flight, the official validator."""
    return run_all(validator)


def test_every_fatal_rule_of_the_rule_files_is_classified(peppol_dir):
    rules = fatal_rules(peppol_dir)
    assert len(rules) > 400  # both rule files were read
    assert sorted(r for r, c in classify(set(rules)).items() if c == "unclassified") == []
    tables = [set(MUTATIONS), set(UNCAUGHT), set(WRITER), set(NOT_CARRIED)]
    for i, a in enumerate(tables):
        assert a <= set(rules), f"not a fatal rule of the rule files: {sorted(a - set(rules))}"
        for b in tables[i + 1:]:
            assert not a & b, f"classified twice: {sorted(a & b)}"
    assert all(reason.strip() for table in (UNCAUGHT, WRITER, NOT_CARRIED) for reason in table.values())


def test_each_mutation_breaks_its_rule_under_the_official_validator(outcomes):
    wrong = [f"{o.rule}: {o.mutation} -> {sorted(o.official)}" for o in outcomes
             if o.official is not None and o.rule not in o.official]
    assert wrong == []
    rendered = {o.rule for o in outcomes if o.official is not None}
    assert len(rendered) >= 0.95 * len(MUTATIONS)  # only a few are refused by the JSON form itself


def test_preflight_refuses_each_mutation_before_rendering_with_the_rule_and_a_field(outcomes):
    missed = [f"{o.rule}: {o.mutation} -> {[(f.code, f.field, f.rules) for f in o.errors]}"
              for o in outcomes if not o.caught and o.rule not in UNCAUGHT]
    assert missed == []
    for o in outcomes:
        for f in o.refusals:
            assert schema_has(f.field) and f.hint, f
            assert "{" not in f.render(), f.render()


def test_a_refused_mutation_is_never_rendered(outcomes):
    for o in outcomes[::7]:  # build_ubl runs the same checks; a sample keeps this quick
        if o.official is None:
            continue
        with pytest.raises(DocumentError) as caught:
            build_ubl(InvoiceDocument.from_json(o.mutation.apply()))
        assert o.rule in {r for f in caught.value.findings for r in f.rules}


def test_coverage_is_at_least_98_percent_and_the_rest_is_listed(peppol_dir, outcomes):
    figure = coverage(peppol_dir, outcomes)
    assert figure["coverage_percent"] >= 98, figure
    assert set(figure["not_caught"]) == set(UNCAUGHT), figure["not_caught"]
    assert figure["in_scope"] == len(MUTATIONS) + len(UNCAUGHT)


def test_what_the_writer_guarantees_holds_for_json_that_seems_to_break_it(validator):
    from flask_maventa.document.ubl import write_ubl

    assert set(WRITER_PROOFS) <= set(WRITER)
    for rule, mutations in WRITER_PROOFS.items():
        for m in mutations:
            xml, _ = write_ubl(InvoiceDocument.from_json(m.apply()))
            assert rule not in {f["id"] for f in validator.validate_bytes(xml)["fatal"]}, f"{rule}: {m}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_no_valid_corpus_case_is_refused(path):
    assert [f for f in check_document(load_case(path), pdf=pdf_for(path)) if f.severity == "error"] == []
