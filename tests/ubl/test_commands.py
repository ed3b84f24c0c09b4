"""The commands: render-ubl / check (click) and python -m flask_maventa.cli.documents."""

from __future__ import annotations

import os
import sys

from click.testing import CliRunner
from lxml import etree

from flask_maventa.cli.documents import check_command, render_ubl_command

from ..fixtures import launcher
from .conftest import BROKEN, CASES, REPO, TINY_PDF

BASIC = next(p for p in CASES if p.stem == "no_domestic_basic")


def test_render_ubl_prints_the_xml_with_the_pdf(tmp_path, assert_valid):
    pdf = tmp_path / "Faktura 1001.pdf"
    pdf.write_bytes(TINY_PDF)
    result = CliRunner().invoke(render_ubl_command, [str(BASIC), "--pdf", str(pdf)])
    assert result.exit_code == 0, result.output
    xml = result.stdout.encode("utf-8")
    assert_valid(xml)
    assert b'filename="faktura_1001.pdf"' in xml


def test_render_ubl_of_a_broken_invoice_prints_the_findings_and_no_xml():
    broken = next(p for p in BROKEN if p.stem == "many_problems_at_once")
    import json
    doc_file = broken.parent / "_tmp_doc.json"
    try:
        doc_file.write_text(json.dumps(json.loads(broken.read_text())["document"]), encoding="utf-8")
        result = CliRunner().invoke(render_ubl_command, [str(doc_file)])
    finally:
        doc_file.unlink()
    assert result.exit_code == 1
    assert "<?xml" not in result.stdout
    assert "BUYER_NO_STREET" in result.stderr and "open the customer card" in result.stderr


def test_check_prints_findings_and_exits_1_on_errors(tmp_path, peppol_dir):
    result = CliRunner().invoke(check_command, [str(BASIC), "--rules-dir", str(peppol_dir)])
    assert result.exit_code == 0, result.output
    assert "No problems found." in result.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(BASIC.read_text(encoding="utf-8").replace('"Kundeveien 5"', '""'), encoding="utf-8")
    result = CliRunner().invoke(check_command, [str(bad)])
    assert result.exit_code == 1
    assert "BUYER_NO_STREET" in result.stdout


def test_check_reports_broken_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"number": 1}', encoding="utf-8")
    result = CliRunner().invoke(check_command, [str(bad)])
    assert result.exit_code == 1 and "JSON_INVALID" in result.stdout


def test_python_dash_m_prints_the_ubl():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = launcher.run([sys.executable, "-m", "flask_maventa.cli.documents", str(BASIC)], capture_output=True, env=env,
                       check=True, timeout=60).stdout
    assert etree.fromstring(out).tag.endswith("}Invoice")
