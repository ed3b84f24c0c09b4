"""The ERP's own pages: invoices (change their status) and invoice statuses (their flags).

Each form works with htmx (the row is posted and comes back re-rendered) and without it
(a plain POST and a 303 back to the list).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.fields.choices import SelectChoice

from . import LANGUAGES, auth
from .models import Company, Invoice, InvoiceStatus, db
from .pdf import invoice_pdf

bp = Blueprint("example", __name__)
HTMX_FILE = Path(__file__).parent / "static" / "vendor" / "htmx.min.js"
LANGUAGE_NAMES = {"en": "English", "nb": "Norsk bokmål", "fi": "Suomi", "sv": "Svenska"}


class InvoiceStatusForm(FlaskForm):
    status_id = SelectField("Status", coerce=int)


class LanguageForm(FlaskForm):
    language = SelectField("Language", choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()])
    next = HiddenField()


class StatusFlagsForm(FlaskForm):
    is_sent = BooleanField("Sent")
    is_paid = BooleanField("Paid")


@bp.app_context_processor
def layout_context():
    if not has_request_context():
        return {}
    return {
        "csrf_token": generate_csrf,  # no app-wide CSRFProtect: each FlaskForm checks its own token
        "current_user": auth.current_user(),
        "erp_locale": str(get_locale()),
        "money": lambda amount: format_decimal(amount, "#,##0.00"),
        "htmx_available": HTMX_FILE.exists(),
        "languages": LANGUAGE_NAMES,
        "language_form": LanguageForm(prefix="lang", language=str(get_locale()), next=request.full_path.rstrip("?")),
    }


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def statuses() -> list[InvoiceStatus]:
    return list(db.session.scalars(sa.select(InvoiceStatus).order_by(InvoiceStatus.position, InvoiceStatus.id)))


def status_form(invoice: Invoice, all_statuses, formdata=None) -> InvoiceStatusForm:
    form = InvoiceStatusForm(formdata=formdata, prefix=f"i{invoice.id}", status_id=invoice.status_id)
    form.status_id.choices = [SelectChoice(s.id, s.label) for s in all_statuses]
    return form


@bp.get("/")
def home():
    return redirect(url_for("example.invoices"))


@bp.get("/invoices")
def invoices():
    all_statuses = statuses()
    query = sa.select(Invoice).order_by(Invoice.company_id, Invoice.number)
    company_id = request.args.get("company", type=int)
    if company_id:
        query = query.where(Invoice.company_id == company_id)
    rows = [(invoice, status_form(invoice, all_statuses)) for invoice in db.session.scalars(query)]
    companies = db.session.scalars(sa.select(Company).where(Company.vat_number.is_not(None)).order_by(Company.name))
    response = make_response(render_template("example/invoices.html", rows=rows, companies=list(companies),
                                             company_id=company_id))
    response.vary.add("HX-Request")
    return response


@bp.post("/invoices/<int:invoice_id>/status")
def change_invoice_status(invoice_id: int):
    invoice = db.get_or_404(Invoice, invoice_id)
    all_statuses = statuses()
    form = status_form(invoice, all_statuses, formdata=request.form)
    if form.validate():
        invoice.status_id = form.status_id.data
        db.session.commit()
        if not is_htmx():
            return redirect(url_for("example.invoices"), 303)
        form = status_form(invoice, all_statuses)
        response = make_response(render_template("example/_invoice_row.html", invoice=invoice, form=form,
                                                 saved=True))
        response.headers["HX-Trigger"] = "example:invoice-status-changed"
        return response
    if not is_htmx():
        abort(400)
    return render_template("example/_invoice_row.html", invoice=invoice, form=form)


@bp.get("/invoices/<int:invoice_id>.pdf")
def invoice_pdf_view(invoice_id: int):
    invoice = db.get_or_404(Invoice, invoice_id)
    response = make_response(invoice_pdf(invoice))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="invoice-{invoice.number}.pdf"'
    return response


# The extension links here from its "can not be sent" message (HostAdapter.status_settings_url).
@bp.get("/invoice-statuses", endpoint="statuses")
def statuses_page():
    rows = [(s, StatusFlagsForm(prefix=f"s{s.id}", obj=s)) for s in statuses()]
    return render_template("example/statuses.html", rows=rows)


@bp.post("/invoice-statuses/<int:status_id>")
def edit_status(status_id: int):
    status = db.get_or_404(InvoiceStatus, status_id)
    form = StatusFlagsForm(formdata=request.form, prefix=f"s{status.id}")
    if not form.validate():
        if not is_htmx():
            abort(400)
        return render_template("example/_status_row.html", status=status, form=form)
    status.is_sent, status.is_paid = form.is_sent.data, form.is_paid.data
    db.session.commit()
    if not is_htmx():
        return redirect(url_for("example.statuses"), 303)
    response = make_response(render_template("example/_status_row.html", status=status,
                                              form=StatusFlagsForm(prefix=f"s{status.id}", obj=status), saved=True))
    response.headers["HX-Trigger"] = "example:status-flags-changed"
    return response


@bp.post("/language")
def set_language():
    form = LanguageForm(prefix="lang")
    target = None
    if form.validate_on_submit() and form.language.data in LANGUAGES:
        session["language"] = form.language.data
        target = local_path(form.next.data)  # only with the page's token, and only to our own pages
    return redirect(target or url_for("example.invoices"), 303)


def local_path(target: str | None) -> str | None:
    r"""``target`` if it is a path on this site, else None: never an open redirect.

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so ``/<tab>/evil.example``
    and ``/\evil.example`` mean ``//evil.example`` -- another site. Such characters are refused outright.
    """
    if not target or any(c.isspace() or c == "\\" or not c.isprintable() for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target
