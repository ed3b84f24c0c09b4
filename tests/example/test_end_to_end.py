"""The whole product flow through the example ERP, with every part real.

A finance admin works in the example ERP's pages only (test client, CSRF tokens taken from the
HTML): registers a seeded company in the sandbox Maventa over HTTP, sends the signing request,
the sandbox signs, Refresh shows it verified; saves the settings with the ERP's own statuses and
switches synchronisation on; moves invoices into the transfer status on the ERP's invoice page.
Then the operator's commands run as real processes against a real Redis: ``flask maventa sweep``
and ``flask maventa worker --burst`` (RQ, no fork per job), and the delivery poll job.

What comes out is checked where it lands: the sandbox holds exactly one invoice per ERP invoice,
read back through Maventa's own API; the UBL passes the official Peppol BIS 3 validator and carries
the ERP's own PDF; the ERP invoice is in the success status; the transfer log shows the outcome.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from lxml import etree

from example_app.models import Company as CompanyRow
from example_app.models import Customer, Invoice, InvoiceStatus, Person, db

from ..fixtures import launcher
from .conftest import make_erp

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/settings/integrations/maventa"
NS = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
      "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"}
# The seeded e-invoice customer of Fjordline Consulting AS, as Maventa's receiver registry knows it.
NORDLYS = {"eia": "0192:998877660", "network": "PEPPOL", "operator": "PEPPOL", "name": "Nordlys Energi AS",
           "bid": "998877660", "country": "NO"}


# -- the example ERP, its processes, and what a user does in its pages -------------------------------------


class ExampleErp:
    """The seeded example ERP in this process (its pages through the test client) and the same app
    configuration handed to ``flask maventa ...`` processes through the environment, as a host runs them."""

    def __init__(self, monkeypatch, tmp_path: Path, sandbox, redis_url: str, database_url: str | None):
        self.sandbox = sandbox
        self.tmp_path = tmp_path
        self.mail_log = tmp_path / "error-mails.txt"
        self.database_url = database_url or f"sqlite:///{tmp_path / 'erp.db'}"
        self.maventa = {
            "MAVENTA_ENVIRONMENT": "sandbox",
            "MAVENTA_SANDBOX_URL": sandbox.url,
            "MAVENTA_VENDOR_API_KEY": sandbox.vendor_api_key,
            "MAVENTA_REDIS_URL": redis_url,
            "MAVENTA_QUEUE": f"maventa-e2e-{uuid.uuid4().hex[:8]}",
            "MAVENTA_POLL_SCHEDULE": [0, 1, 2],  # the first delivery poll is due at once
            "MAVENTA_RETRY_SCHEDULE": [1, 1, 1],
            "MAVENTA_HTTP_TIMEOUT": 10.0,
        }
        self.app = make_erp(monkeypatch, tmp_path, self.database_url, EXAMPLE_MAIL_LOG=str(self.mail_log),
                            **self.maventa)
        self.client = self.app.test_client()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAVENTA_", "EXAMPLE_"))}
        env.pop("SECRET_KEY", None)
        env.update({key: value if isinstance(value, str) else json.dumps(value) for key, value in self.maventa.items()})
        env.update(FLASK_APP="example_app", DATABASE_URL=self.database_url, PYTHONPATH=str(ROOT),
                   EXAMPLE_INSTANCE_PATH=str(tmp_path / "instance"), EXAMPLE_MAIL_LOG=str(self.mail_log),
                   PYTHONUNBUFFERED="1")
        self.env = env

    # -- the database, read the way the ERP stores it --------------------------------------------------

    @contextmanager
    def db(self):
        """A short app context of our own: nothing of it outlives the block (no stale reads, no locks)."""
        with self.app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()

    def ids(self) -> dict[str, int]:
        with self.db() as session:
            ids = {f"status:{s.name}": s.id for s in session.scalars(sa.select(InvoiceStatus))}
            ids |= {f"company:{c.name}": c.id for c in session.scalars(sa.select(CompanyRow))}
            ids |= {f"person:{p.email}": p.id for p in session.scalars(sa.select(Person))}
            ids |= {f"invoice:{i.number}": i.id for i in session.scalars(sa.select(Invoice))}
            return ids

    def status_of(self, number: str) -> str:
        with self.db() as session:
            return session.scalars(sa.select(Invoice).where(Invoice.number == number)).one().status.name

    # -- the operator's commands, as real processes ------------------------------------------------------

    def flask(self, *args: str) -> str:
        result = launcher.run([sys.executable, "-m", "flask", "maventa", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"flask maventa {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout + result.stderr

    def sweep_and_work(self) -> str:
        """What the scheduler's sweep and a worker do, run once: the sweep's report line."""
        report = self.flask("sweep")
        self.flask("worker", "--burst")
        return report

    def poll_deliveries(self) -> None:
        """The delivery poll job on the queue, then a burst worker (it runs the polls it enqueues)."""
        from redis import Redis
        from rq import Queue

        with Redis.from_url(self.maventa["MAVENTA_REDIS_URL"]) as redis:
            Queue(self.maventa["MAVENTA_QUEUE"], connection=redis).enqueue("flask_maventa.runtime.jobs.poll_deliveries")
        self.flask("worker", "--burst")

    # -- pages ---------------------------------------------------------------------------------------------

    def get(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    def post(self, path: str, data: dict, *, expect: int = 303):
        response = self.client.post(path, data=data)
        assert response.status_code == expect, (path, response.status_code, response.get_data(as_text=True)[-3000:])
        return response


def csrf(html: str, prefix: str = "") -> str:
    match = re.search(rf'name="{re.escape(prefix)}csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, f"no {prefix}csrf_token on the page"
    return match.group(1)


def onboard(erp: ExampleErp, ids: dict[str, int]) -> tuple[str, str]:
    """PRODUCT §1A and §2 in the pages: register, sign, refresh, save settings, activate.
    Returns (company page path, Maventa company uuid)."""
    company_id = ids["company:Fjordline Consulting AS"]
    kari = "kari.nordmann@fjordline.example"
    company_page = f"{PREFIX}/companies/{company_id}"

    landing = erp.get(f"{PREFIX}/")
    assert "Fjordline Consulting AS" in landing and "Companies already registered" in landing
    response = erp.post(f"{PREFIX}/register", {"csrf_token": csrf(landing), "company": str(company_id),
                                               "person": str(ids[f"person:{kari}"])})
    assert response.headers["Location"].startswith(f"{company_page}?notice=registered")
    page = erp.get(response.headers["Location"])
    assert "The company is registered in Maventa" in page
    company_uuid = re.search(r'name="company_uuid"[^>]*value="([0-9a-f-]{36})"', page).group(1)
    in_maventa = erp.sandbox.company(company_uuid)
    assert in_maventa["name"] == "Fjordline Consulting AS" and in_maventa["bid"] == "923456783"
    assert in_maventa["company_state"] == "UNVERIFIED"

    erp.post(f"{company_page}/signing/send", {"csrf_token": csrf(page), "approver": str(ids[f"person:{kari}"]),
                                              "email": kari, "locale": "NO"})
    in_maventa = erp.sandbox.company(company_uuid)
    assert (in_maventa["auth_state"], in_maventa["auth_email"], in_maventa["locale"]) == ("SENT", kari, "NO")
    page = erp.get(company_page)
    assert 'data-auth-state="SENT"' in page and "waiting for the signature" in page

    erp.sandbox.sign(company_uuid)  # the approver signs with Visma Sign
    erp.post(f"{company_page}/signing/refresh", {"csrf_token": csrf(page)})
    page = erp.get(company_page)
    assert 'data-company-state="VERIFIED"' in page and "Signed and verified" in page

    erp.post(f"{company_page}/settings", {
        "csrf_token": csrf(page), "send_pdf": "y", "send_customer_email": "y",
        "error_emails": "faktura@fjordline.example",
        "transfer_status_id": str(ids["status:Ready for Maventa"]),
        "success_status_id": str(ids["status:Transferred to Maventa"]),
        "failure_status_id": str(ids["status:Maventa transfer failed"]),
    })
    page = erp.get(company_page)
    assert re.search(r'name="send_pdf"[^>]*checked', page) or re.search(r'checked[^>]*name="send_pdf"', page)
    assert re.search(rf'<option selected value="{ids["status:Ready for Maventa"]}">', page)

    erp.post(f"{company_page}/activation", {"csrf_token": csrf(page), "active": "1"})
    page = erp.get(company_page)
    assert 'aria-checked="true"' in page and "maventa-refusal" not in page
    return company_page, company_uuid


def move_invoice(erp: ExampleErp, ids: dict[str, int], number: str, status: str) -> None:
    """The ERP's own invoice list: choose the status in the invoice's row and save (no JavaScript)."""
    invoice_id = ids[f"invoice:{number}"]
    page = erp.get("/invoices")
    response = erp.post(f"/invoices/{invoice_id}/status", {
        f"i{invoice_id}-csrf_token": csrf(page, f"i{invoice_id}-"),
        f"i{invoice_id}-status_id": str(ids[f"status:{status}"]),
    })
    assert response.headers["Location"] == "/invoices"
    assert erp.status_of(number) == status


def log_rows(erp: ExampleErp) -> dict[str, list[str]]:
    """The transfer log page as the finance user sees it: invoice number -> its rows, newest first."""
    html = erp.get(f"{PREFIX}/transfers")
    by_number: dict[str, list[str]] = {}
    for row in re.findall(r'<tr id="transfer-\d+" data-state="[a-z_]+">.*?</tr>', html, re.S):
        number = re.search(r'/invoices/\d+">([^<]+)</a>', row).group(1).strip()
        by_number.setdefault(number, []).append(row)
    return by_number


def log_row(erp: ExampleErp, number: str) -> str:
    """The invoice's only row in the transfer log."""
    rows = log_rows(erp).get(number, [])
    assert len(rows) == 1, f"invoice {number} has {len(rows)} rows in the transfer log"
    return rows[0]


def counters(html: str) -> dict[str, int]:
    """The transfer counters on the company page."""
    return {key: int(n) for key, n in re.findall(r'data-counter="(\w+)"[^>]*>\s*<strong>(\d+)</strong>', html)}


def state_of(row: str) -> str:
    return re.search(r'data-state="([a-z_]+)"', row).group(1)


class MaventaReader:
    """Maventa's own API, with the company's credentials: what Maventa holds for an invoice."""

    def __init__(self, sandbox, company_uuid: str, api_key: str):
        self.http = sandbox.http
        token = self.http.post("/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": company_uuid, "client_secret": api_key,
            "vendor_api_key": sandbox.vendor_api_key, "scope": "eui"})
        token.raise_for_status()
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def invoice(self, invoice_id: str) -> dict:
        response = self.http.get(f"/v1/invoices/{invoice_id}", headers=self.headers)
        response.raise_for_status()
        return response.json()

    def file(self, href: str) -> bytes:
        response = self.http.get(httpx.URL(href).raw_path.decode(), headers=self.headers)
        response.raise_for_status()
        return response.content


def stored_api_key(erp: ExampleErp, company_id: int) -> str:
    from flask_maventa.extension import current_maventa
    from flask_maventa.infra.models import Connection

    with erp.db() as session:
        connection = session.scalars(sa.select(Connection).where(Connection.company_id == str(company_id))).one()
        return current_maventa().secrets().decrypt(connection.api_key_encrypted)


@pytest.fixture
def make_example_erp(monkeypatch, tmp_path, sandbox, redis_url):
    erps: list[ExampleErp] = []

    def factory(database_url: str | None = None) -> ExampleErp:
        erp = ExampleErp(monkeypatch, tmp_path, sandbox, redis_url, database_url)
        erps.append(erp)
        return erp

    yield factory
    for erp in erps:
        with erp.app.app_context():
            db.session.remove()
            db.engine.dispose()


# -- the tests ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_finance_admin_connects_the_company_and_due_invoices_reach_maventa_exactly_once(
        make_example_erp, validator, database, request):
    erp = make_example_erp(request.getfixturevalue("postgres_url") if database == "postgresql" else None)
    ids = erp.ids()
    company_page, company_uuid = onboard(erp, ids)

    # Maventa's receiver registry knows the customer's Peppol address; two invoices become due.
    erp.sandbox.seed_receivers(NORDLYS)
    for number in ("10001", "10002"):
        move_invoice(erp, ids, number, "Ready for Maventa")

    report = erp.sweep_and_work()
    assert "created 2 transfer(s), dispatched 1 job(s)" in report, report  # one job sends every due transfer

    # Maventa got exactly one invoice per ERP invoice, each POSTed once.
    received = erp.sandbox.invoices()
    assert received["invoices_per_number"] == {"10001": 1, "10002": 1}, received
    assert received["receipts"] == 2 and set(received["received_per_uuid"].values()) == {1}
    assert {i["company_id"] for i in received["invoices"]} == {company_uuid}

    # What Maventa holds, read back through its API: valid Peppol BIS 3 carrying the ERP's own PDF.
    reader = MaventaReader(erp.sandbox, company_uuid, stored_api_key(erp, ids["company:Fjordline Consulting AS"]))
    for summary in received["invoices"]:
        number = summary["number"]
        held = reader.invoice(summary["id"])
        assert held["recipient"]["eia"] == NORDLYS["eia"] and held["source_format"] == "PEPPOLBIS30"
        (xml_file,) = [f for f in held["files"] if f["type"] == "INVOICE"]
        xml = reader.file(xml_file["href"])
        result = validator.validate_bytes(xml, f"invoice-{number}.xml")
        assert result["fatal"] == [], json.dumps(result["fatal"], indent=1, ensure_ascii=False)

        tree = etree.fromstring(xml)
        assert tree.findtext("cbc:ID", namespaces=NS) == number
        (embedded,) = tree.findall(".//cac:AdditionalDocumentReference/cac:Attachment/"
                                   "cbc:EmbeddedDocumentBinaryObject", NS)
        assert embedded.get("mimeCode") == "application/pdf"
        pdf = base64.b64decode(embedded.text)
        erp_pdf = erp.client.get(f"/invoices/{ids[f'invoice:{number}']}.pdf")
        assert erp_pdf.status_code == 200 and pdf == erp_pdf.data  # byte for byte the ERP's own PDF
        assert pdf.startswith(b"%PDF-") and f"Invoice {number}".encode() in pdf

    # The ERP invoices are in the success status; the transfer log says Maventa accepted them.
    assert erp.status_of("10001") == erp.status_of("10002") == "Transferred to Maventa"
    invoices_page = erp.get("/invoices")
    for number in ("10001", "10002"):
        row = re.search(rf'<tr id="invoice-{ids[f"invoice:{number}"]}".*?</tr>', invoices_page, re.S).group(0)
        assert re.search(rf'<option selected value="{ids["status:Transferred to Maventa"]}">', row)
    assert set(log_rows(erp)) == {"10001", "10002"}
    for number in ("10001", "10002"):
        row = log_row(erp, number)
        assert state_of(row) == "accepted" and ">Accepted<" in row, row
        assert "Fjordline Consulting AS" in row and "E-invoice" in row
        assert re.search(r"<code>[0-9a-f-]{36}</code>", row), "the Maventa id is shown"
        assert "maventa-error" not in row and 'name="ids"' not in row  # nothing to retry

    # Delivery status comes back: the scheduler's poll job, run by a worker.
    erp.poll_deliveries()
    for number in ("10001", "10002"):
        row = log_row(erp, number)
        assert state_of(row) == "delivered" and ">Delivered<" in row, row
    assert {(i["status"], i["route"]["channel"]) for i in erp.sandbox.invoices()["invoices"]} == {
        ("DELIVERED", "EINVOICE")}
    assert counters(erp.get(company_page)) == {"queued": 0, "sending": 0, "accepted": 0, "delivered": 2,
                                                "failed": 0, "stuck": 0}

    # Sweep and worker again: nothing is due, nothing more is sent.
    report = erp.sweep_and_work()
    assert "created 0 transfer(s), dispatched 0 job(s)" in report, report
    again = erp.sandbox.invoices()
    assert again["receipts"] == 2 and again["invoices_per_number"] == {"10001": 1, "10002": 1}
    assert set(log_rows(erp)) == {"10001", "10002"}
    assert state_of(log_row(erp, "10001")) == state_of(log_row(erp, "10002")) == "delivered"
    assert erp.status_of("10001") == erp.status_of("10002") == "Transferred to Maventa"
    assert not erp.mail_log.exists(), "no error email for a successful transfer"


def test_customer_without_street_goes_to_the_failure_status_with_a_hint_and_is_never_sent(make_example_erp):
    erp = make_example_erp()
    ids = erp.ids()
    onboard(erp, ids)
    erp.sandbox.seed_receivers(NORDLYS)
    with erp.db() as session:  # someone cleared the street on the customer card
        session.scalars(sa.select(Customer).where(Customer.name == "Nordlys Energi AS")).one().street = None
        session.commit()
    move_invoice(erp, ids, "10001", "Ready for Maventa")

    report = erp.sweep_and_work()
    assert "created 1 transfer(s), dispatched 1 job(s)" in report, report

    assert erp.status_of("10001") == "Maventa transfer failed"
    received = erp.sandbox.invoices()
    assert received["receipts"] == 0 and received["invoices"] == [], "pre-flight must stop it before Maventa"
    row = log_row(erp, "10001")
    assert state_of(row) == "failed" and ">Failed<" in row
    # Stored untranslated by the worker and read in the reader's language (this page: English); the error
    # email goes out in the company's language (its signing email's: Norwegian).
    assert "The customer has no street address." in row and "Kunden mangler gateadresse." not in row
    assert "Fill in the address — open the customer card." in row
    assert re.search(r'<button type="submit" id="retry-\d+" name="ids" value="\d+"\s+aria-label="Retry invoice [^"]+">Retry</button>', row)
    mail = erp.mail_log.read_text()
    assert "To: faktura@fjordline.example" in mail and "faktura 10001 kunne ikke sendes" in mail
    assert "Årsak: Kunden mangler gateadresse." in mail

    # Another run changes nothing: a failed invoice comes back only through Retry after a fix.
    report = erp.sweep_and_work()
    assert "created 0 transfer(s), dispatched 0 job(s)" in report, report
    assert erp.sandbox.invoices()["receipts"] == 0
    assert erp.status_of("10001") == "Maventa transfer failed"

    # The fix on the customer card, then Retry in the transfer log: sent once, as a new revision.
    with erp.db() as session:
        session.scalars(sa.select(Customer).where(Customer.name == "Nordlys Energi AS")).one().street = "Kraftveien 7"
        session.commit()
    log = erp.get(f"{PREFIX}/transfers")
    transfer_id = re.search(r'name="ids" value="(\d+)"\s+aria-label="Retry invoice [^"]+">Retry</button>', row).group(1)
    erp.post(f"{PREFIX}/transfers/retry", {"csrf_token": csrf(log), "ids": transfer_id})
    assert erp.status_of("10001") == "Ready for Maventa"
    erp.sweep_and_work()
    received = erp.sandbox.invoices()
    assert received["receipts"] == 1 and received["invoices_per_number"] == {"10001": 1}
    assert erp.status_of("10001") == "Transferred to Maventa"
    (latest,) = log_rows(erp)["10001"]  # one row per invoice: its latest revision; the first is in its timeline
    assert state_of(latest) == "accepted" and ">r2<" in latest


def test_the_demos_failed_invoice_is_fixed_on_the_customer_card_and_retried_until_delivered(make_example_erp):
    """The demo's fix-and-retry loop, with nothing done to the sandbox: Solberg Snekkeri has only a postal
    address and the company no print service, so Maventa cannot deliver invoice 10003; the user adds an
    email on the ERP's customer card, presses Retry, and the sandbox delivers it by email."""
    from example_app.demo import registry_entries

    erp = make_example_erp()
    erp.env["MAVENTA_SWEEP_INTERVAL"] = "1"  # the delivery poll runs once per interval: twice in this test
    ids = erp.ids()
    company_page, company_uuid = onboard(erp, ids)
    erp.sandbox.seed_receivers(*registry_entries())  # the Peppol network, as `make demo` loads it
    move_invoice(erp, ids, "10003", "Ready for Maventa")
    erp.sweep_and_work()
    erp.poll_deliveries()

    row = log_row(erp, "10003")
    assert state_of(row) == "failed" and "No route found for the recipient" in row, row
    assert "print: print service not enabled" in row and "email: no address" in row
    assert "e-invoice address, email and postal address on the customer card, then retry" in row  # the hint
    assert "Kontroller kundens" not in row  # the page's language, not the company's (the email's)
    assert erp.status_of("10003") == "Maventa transfer failed"
    assert "faktura 10003 kunne ikke sendes" in erp.mail_log.read_text()

    # The customer card, as the user fills it in (no JavaScript): a typo is refused and changes nothing.
    with erp.db() as session:
        solberg = session.scalars(sa.select(Customer).where(Customer.name == "Solberg Snekkeri")).one().id
    card = erp.get(f"/customers/{solberg}")
    assert "10003" in card and "Reachable by: print." in card
    fields = {"csrf_token": csrf(card), "street": "Verkstedveien 12", "post_code": "3015", "city": "Drammen",
              "country": "NO", "einvoice_address": "", "einvoice_operator": ""}
    response = erp.post(f"/customers/{solberg}", {**fields, "email": "post@solberg"}, expect=422)
    assert "Enter a valid email address" in response.get_data(as_text=True)
    erp.post(f"/customers/{solberg}", {**fields, "email": "post@solberg.example"})
    assert "Reachable by: email." in erp.get(f"/customers/{solberg}")

    # Retry in the transfer log: a new revision, sent once, delivered by email.
    log = erp.get(f"{PREFIX}/transfers?number=10003")
    transfer_id = re.search(r'name="ids" value="(\d+)"\s+aria-label="Retry invoice [^"]+">Retry</button>', log).group(1)
    erp.post(f"{PREFIX}/transfers/retry", {"csrf_token": csrf(log), "ids": transfer_id})
    assert erp.status_of("10003") == "Ready for Maventa"
    erp.sweep_and_work()
    time.sleep(1.2)  # the next interval
    erp.poll_deliveries()
    (latest,) = log_rows(erp)["10003"]  # one row per invoice: its latest revision
    assert state_of(latest) == "delivered" and ">r2<" in latest, latest
    assert counters(erp.get(f"{PREFIX}/transfers"))["failed"] == 0  # the retried revision is history, not a failure
    received = erp.sandbox.invoices()
    assert received["invoices_per_number"] == {"10003": 2}  # two revisions, two uuids, each posted once
    assert set(received["received_per_uuid"].values()) == {1}
    delivered = [i for i in received["invoices"] if i["status"] == "DELIVERED"]
    assert [(i["number"], i["route"]["channel"]) for i in delivered] == [("10003", "EMAIL")]
    assert erp.status_of("10003") == "Transferred to Maventa"
