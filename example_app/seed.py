"""Demo data: ``flask --app example_app seed`` (idempotent: rows are found by their natural
keys, so running it twice changes nothing)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import click
import sqlalchemy as sa

from flask_maventa.infra.models import metadata as maventa_metadata

from .models import Company, Customer, Invoice, InvoiceLine, InvoiceStatus, Person, db


def N_(message: str) -> str:
    """Marks a name for the ERP's catalogue; it is stored in English and translated when shown."""
    return message


# name, Sent flag, Paid flag. "Ready to send" carries the Sent flag by mistake: choosing it as
# the transfer status shows the extension's "can not be sent" validation.
STATUSES = [
    (N_("Draft"), False, False),
    (N_("Approved"), False, False),
    (N_("Ready for Maventa"), False, False),
    (N_("Transferred to Maventa"), False, False),
    (N_("Maventa transfer failed"), False, False),
    (N_("Ready to send"), True, False),
    (N_("Sent"), True, False),
    (N_("Paid"), True, True),
]

COMPANIES = [
    # key, parent key, fields
    ("fjordline", None, dict(
        name="Fjordline Consulting AS", business_id="923456783", vat_number="NO923456783MVA", country="NO",
        street="Storgata 1", post_code="0155", city="Oslo", email="faktura@fjordline.example",
        phone="+47 22 00 00 00", currency="NOK", bank_account="NO9386011117947", bic="DNBANOKK")),
    ("bergen", "fjordline", dict(
        name="Fjordline Bergen AS", business_id="987654325", vat_number="NO987654325MVA", country="NO",
        street="Bryggen 3", post_code="5003", city="Bergen", email="bergen@fjordline.example",
        currency="NOK", bank_account="NO8330001234567", bic="DNBANOKK")),
    ("support", "fjordline", dict(  # a department without its own VAT number: invoices as Fjordline
        name="Fjordline Support", business_id="923456783", vat_number=None, country="NO",
        street="Storgata 1", post_code="0155", city="Oslo", email="support@fjordline.example", currency="NOK")),
    ("revontuli", None, dict(
        name="Revontuli Oy", business_id="2345678-0", vat_number="FI23456780", country="FI",
        street="Mannerheimintie 10", post_code="00100", city="Helsinki", email="laskutus@revontuli.example",
        currency="EUR", bank_account="FI2112345600000785", bic="NDEAFIHH")),
]

PERSONS = [
    ("fjordline", "Kari", "Nordmann", "kari.nordmann@fjordline.example", "nb"),
    ("fjordline", "Lars", "Berg", "lars.berg@fjordline.example", "nb"),
    ("bergen", "Ingrid", "Haugen", "ingrid.haugen@fjordline.example", "nb"),
    ("support", "Erik", "Svensson", "erik.svensson@fjordline.example", "sv"),
    ("revontuli", "Aino", "Virtanen", "aino.virtanen@revontuli.example", "fi"),
    ("revontuli", "Anna", "Lindqvist", "anna.lindqvist@revontuli.example", "sv"),
]

CUSTOMERS = [
    # Reachable by e-invoice: Peppol address + operator (and an email).
    dict(name="Nordlys Energi AS", business_id="998877660", vat_number="NO998877660MVA", country="NO",
         street="Kraftveien 7", post_code="7010", city="Trondheim", email="invoice@nordlys.example",
         contact_name="Per Olsen", einvoice_scheme="0192", einvoice_id="998877660", einvoice_operator="PEPPOL",
         language="nb"),
    dict(name="Saimaa Logistiikka Oy", business_id="1572860-0", vat_number="FI15728600", country="FI",
         street="Satamakatu 2", post_code="53100", city="Lappeenranta", email="ostolaskut@saimaa.example",
         contact_name="Mikko Laine", einvoice_scheme="0216", einvoice_id="003715728600",
         einvoice_operator="PEPPOL", language="fi"),
    # Email only.
    dict(name="Bakeriet på Hjørnet AS", business_id="933445569", vat_number="NO933445569MVA", country="NO",
         street="Torget 5", post_code="5014", city="Bergen", email="post@bakeriet.example",
         contact_name="Sigrid Moe", language="nb"),
    # Neither: only a postal address (print service).
    dict(name="Solberg Snekkeri", business_id="975312461", vat_number=None, country="NO",
         street="Verkstedveien 12", post_code="3015", city="Drammen", contact_name="Ole Solberg", language="nb"),
]

# The Peppol network as Maventa's receiver registry knows it (the demo loads it into the sandbox): the
# two e-invoice customers. Solberg Snekkeri is not in it (its organisation number, the address Peppol
# would derive, is registered nowhere) and its card has no email: its invoice fails until the user adds
# an email on the customer card and retries -- the demo's fix-and-retry.
PEPPOL_NETWORK = [
    {"eia": "0192:998877660", "operator": "PEPPOL", "name": "Nordlys Energi AS", "bid": "998877660", "country": "NO"},
    {"eia": "0216:003715728600", "operator": "PEPPOL", "name": "Saimaa Logistiikka Oy", "bid": "1572860-0",
     "country": "FI"},
]

# seller key, number, customer, status, days ago, lines (description, qty, unit, price, VAT %), department
INVOICES = [
    ("fjordline", "10001", "Nordlys Energi AS", "Draft", 3,
     [("Consulting, March", "12.5", "HUR", "1450.00", "25"), ("Travel expenses", "1", "C62", "2380.00", "25")], None),
    ("fjordline", "10002", "Nordlys Energi AS", "Approved", 2,
     [("Workshop", "1", "C62", "18000.00", "25"), ("Course book", "8", "H87", "349.00", "0")], None),
    ("fjordline", "10003", "Solberg Snekkeri", "Draft", 1,
     [("Support agreement, Q2", "1", "C62", "4500.00", "25")], "support"),
    ("fjordline", "10000", "Bakeriet på Hjørnet AS", "Paid", 40,
     [("Consulting, February", "4", "HUR", "1450.00", "25")], None),
    ("bergen", "20001", "Bakeriet på Hjørnet AS", "Draft", 2,
     [("Menu design", "6", "HUR", "950.00", "25"), ("Catering for launch", "1", "C62", "3200.00", "15")], None),
    ("bergen", "20002", "Solberg Snekkeri", "Approved", 1,
     [("Website maintenance", "3", "HUR", "950.00", "25")], None),
    ("revontuli", "30001", "Saimaa Logistiikka Oy", "Draft", 2,
     [("Route planning", "10", "HUR", "120.00", "25.5"), ("Licence, annual", "1", "C62", "990.00", "25.5")], None),
    ("revontuli", "30002", "Saimaa Logistiikka Oy", "Sent", 20,
     [("Route planning", "6", "HUR", "120.00", "25.5")], None),
]


def kid(number: str) -> str:
    """Norwegian KID: the invoice number with a mod 10 (Luhn) check digit."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (1 if i % 2 else 2)
        total += d - 9 if d > 9 else d
    return number + str((10 - total % 10) % 10)


def finnish_reference(number: str) -> str:
    """Finnish viitenumero: the number with a 7-3-1 check digit."""
    total = sum(int(d) * (7, 3, 1)[i % 3] for i, d in enumerate(reversed(number)))
    return number + str((10 - total % 10) % 10)


def _get_or_create(model, lookup: dict, **fields):
    row = db.session.scalars(sa.select(model).filter_by(**lookup)).first()
    if row is None:
        row = model(**lookup, **fields)
        db.session.add(row)
        db.session.flush()
    return row


def seed(today: dt.date | None = None) -> dict[str, int]:
    """Create every table (ours and the extension's) and the demo rows that are missing."""
    today = today or dt.date.today()  # noqa: DTZ011 - the demo's invoices are dated by the user's own calendar
    db.create_all()
    maventa_metadata.create_all(db.engine)
    before = db.session.scalar(sa.select(sa.func.count(Invoice.id)))

    statuses = {}
    for position, (name, is_sent, is_paid) in enumerate(STATUSES, start=1):
        statuses[name] = _get_or_create(InvoiceStatus, {"name": name}, position=position,
                                        is_sent=is_sent, is_paid=is_paid)
    companies: dict[str, Company] = {}
    for key, parent, fields in COMPANIES:
        parent_id = companies[parent].id if parent else None
        companies[key] = _get_or_create(Company, {"name": fields["name"]}, parent_id=parent_id,
                                        **{k: v for k, v in fields.items() if k != "name"})
    for key, first, last, email, language in PERSONS:
        _get_or_create(Person, {"email": email}, company_id=companies[key].id, first_name=first,
                       last_name=last, language=language)
    customers = {c["name"]: _get_or_create(Customer, {"name": c["name"]}, **{k: v for k, v in c.items() if k != "name"})
                 for c in CUSTOMERS}
    for key, number, customer, status, days_ago, lines, department in INVOICES:
        seller = companies[key]
        if db.session.scalars(sa.select(Invoice).filter_by(company_id=seller.id, number=number)).first():
            continue
        issued = today - dt.timedelta(days=days_ago)
        invoice = Invoice(
            company=seller, department=companies[department] if department else None,
            customer=customers[customer], status=statuses[status], number=number,
            issue_date=issued, due_date=issued + dt.timedelta(days=14), currency=seller.currency,
            buyer_reference=customers[customer].contact_name, order_reference=f"PO-{number}",
            payment_reference=finnish_reference(number) if seller.country == "FI" else kid(number),
        )
        for position, (description, qty, unit, price, rate) in enumerate(lines, start=1):
            invoice.lines.append(InvoiceLine(position=position, description=description, quantity=Decimal(qty),
                                             unit=unit, unit_price=Decimal(price), vat_rate=Decimal(rate)))
        db.session.add(invoice)
    db.session.commit()
    after = db.session.scalar(sa.select(sa.func.count(Invoice.id)))
    return {"invoices": after, "new_invoices": after - before}


def reset(today: dt.date | None = None) -> dict[str, int]:
    """Back to the starting point: every table (ours and the extension's) emptied and seeded again --
    the invoices in their first statuses, the customer cards and status flags as seeded, no connections."""
    db.session.remove()
    maventa_metadata.drop_all(db.engine)
    db.drop_all()
    return seed(today)


@click.command("seed")
@click.option("--reset", "start_over", is_flag=True,
              help="Empty every table first (ours and the extension's): the demo's starting point.")
def seed_command(start_over: bool) -> None:
    """Create the tables and the demo companies, customers, statuses and invoices."""
    result = reset() if start_over else seed()
    click.echo(f"Seeded the example ERP: {result['invoices']} invoices ({result['new_invoices']} new).")
