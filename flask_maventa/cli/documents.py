"""``flask maventa render-ubl | check``: an invoice in the JSON form, as UBL or as its pre-flight findings.

Also ``python -m flask_maventa.cli.documents INVOICE.json [--pdf FILE]``, which prints the UBL without an app.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import click

from ..document.findings import DocumentError, Finding, errors
from ..document.invoice import InvoiceDocument
from ..document.official import preflight
from ..document.ubl import build_ubl


def _load(path: str) -> InvoiceDocument:
    return InvoiceDocument.from_json(Path(path).read_bytes())


def _echo_findings(findings: Iterable[Finding], *, err: bool) -> None:
    for f in findings:
        click.echo(f"{f.severity.upper():7} {f.code:24} {f.field or '(document)'}: {f.render()}", err=err)


@click.command("render-ubl")
@click.argument("invoice_json", type=click.Path(exists=True, dir_okay=False))
@click.option("--pdf", "pdf_path", type=click.Path(exists=True, dir_okay=False),
              help="Our own invoice PDF to embed in the e-invoice.")
def render_ubl_command(invoice_json: str, pdf_path: str | None) -> None:
    """Print the Peppol BIS 3.0 UBL of an invoice given in the JSON form."""
    pdf = Path(pdf_path).read_bytes() if pdf_path else None
    try:
        xml = build_ubl(_load(invoice_json), pdf=pdf, pdf_filename=Path(pdf_path).name if pdf_path else None)
    except DocumentError as e:
        _echo_findings(e.findings, err=True)
        raise SystemExit(1) from None
    click.echo(xml.decode("utf-8"), nl=False)


@click.command("check")
@click.argument("invoice_json", type=click.Path(exists=True, dir_okay=False))
@click.option("--rules-dir", envvar="MAVENTA_PEPPOL_RULES_DIR", type=click.Path(file_okay=False),
              help="Folder of the official Peppol rule files (also MAVENTA_PEPPOL_RULES_DIR).")
def check_command(invoice_json: str, rules_dir: str | None) -> None:
    """Print the pre-flight findings of an invoice given in the JSON form (exit 1 on any error)."""
    try:
        findings = preflight(_load(invoice_json), rules_dir=rules_dir)
    except DocumentError as e:  # the JSON itself is broken
        findings = e.findings
    _echo_findings(findings, err=False)
    if not findings:
        click.echo("No problems found.")
    if errors(findings):
        raise SystemExit(1)


if __name__ == "__main__":
    render_ubl_command(sys.argv[1:], prog_name="python -m flask_maventa.cli.documents")
