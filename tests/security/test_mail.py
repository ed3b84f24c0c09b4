"""The default mailer: TLS that verifies the server before the password goes, and headers on one line.

A real SMTP server (aiosmtpd) with a certificate from a test CA: STARTTLS (MAVENTA_MAIL_USE_TLS) and TLS
from the first byte (MAVENTA_MAIL_USE_SSL). Trusted only through ``SSL_CERT_FILE``, which is what
``ssl.create_default_context()`` reads -- so an unverified connection would be visible as a success.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from flask_maventa import ConfigurationError
from flask_maventa.infra.mail import HostMailer, SmtpMailer
from tests.fixtures.apps import make_app
from tests.fixtures.services import free_port


def _certificate(tmp_path):
    """A CA and a certificate for 127.0.0.1 signed by it; returns (ca file, cert file, key file)."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "maventa test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class TLSServer:
    """aiosmtpd with TLS (STARTTLS, or implicit with ``implicit=True``) and AUTH; keeps mails and logins."""

    def __init__(self, ca, cert, key, *, implicit: bool):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages, self.logins = [], []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        server = self

        class Handler:
            async def handle_DATA(self, smtp, session, envelope):  # aiosmtpd's name
                server.messages.append(message_from_bytes(envelope.content, policy=default_policy))
                return "250 OK"

        def authenticator(smtp, session, envelope, mechanism, auth_data):
            server.logins.append((auth_data.login.decode(), auth_data.password.decode()))
            return AuthResult(success=True)

        self.port = free_port()
        options = dict(authenticator=authenticator, auth_require_tls=not implicit)
        if implicit:
            options["ssl_context"] = context
        else:
            options.update(tls_context=context, require_starttls=True)
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **options)
        if implicit:  # aiosmtpd's own start-up probe does not know our CA
            self.controller._trigger_server = lambda: self._probe(ca)
        self.controller.start()

    def _probe(self, ca):
        context = ssl.create_default_context(cafile=ca)
        with (socket.create_connection(("127.0.0.1", self.port), 2.0) as raw,
              context.wrap_socket(raw, server_hostname="127.0.0.1") as tls):
            tls.recv(1024)

    def stop(self):
        self.controller.stop()


@pytest.fixture
def certificate(tmp_path):
    return _certificate(tmp_path)


def _mail_app(tmp_path, port, **config):
    return make_app(tmp_path, MAVENTA_MAIL_SERVER="127.0.0.1", MAVENTA_MAIL_PORT=port, MAVENTA_MAIL_USERNAME="erp",
                    MAVENTA_MAIL_PASSWORD="smtp-password-1234", **config)


@pytest.mark.parametrize("mode", ["MAVENTA_MAIL_USE_TLS", "MAVENTA_MAIL_USE_SSL"])
def test_tls_verifies_the_server_before_the_password_goes(tmp_path, certificate, monkeypatch, mode):
    ca, cert, key = certificate
    server = TLSServer(str(ca), str(cert), str(key), implicit=mode == "MAVENTA_MAIL_USE_SSL")
    try:
        app = _mail_app(tmp_path, server.port, **{mode: True})
        with app.app_context():
            monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))  # nobody vouches for it
            with pytest.raises(ssl.SSLCertVerificationError):
                SmtpMailer().send(["errors@fjord.example"], "Refused", "body")
            assert server.logins == [] and server.messages == []

            monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the server's CA is trusted: it goes through
            SmtpMailer().send(["errors@fjord.example"], "Maventa: invoice 1 could not be sent", "body")
            assert server.logins == [("erp", "smtp-password-1234")]
            assert [m["Subject"] for m in server.messages] == ["Maventa: invoice 1 could not be sent"]
    finally:
        server.stop()


def test_a_line_break_in_a_header_value_cannot_add_a_header(app, smtp_server):
    app.config.update(MAVENTA_MAIL_SERVER="127.0.0.1", MAVENTA_MAIL_PORT=smtp_server.port)
    SmtpMailer().send(["errors@fjord.example\r\nBcc: thief@evil.example"],
                   "Maventa: invoice A-1\r\nBcc: thief@evil.example could not be sent", "Invoice A-1\r\n is bad.")
    (mail,) = smtp_server.wait_for(1)
    assert mail["Subject"] == "Maventa: invoice A-1 Bcc: thief@evil.example could not be sent"
    assert mail["Bcc"] is None and "\n" not in mail["To"]


def test_a_failed_transfers_mail_with_a_line_break_in_the_number_arrives(tmp_path, sandbox, smtp_server):
    """Through the default mailer the error email goes out, on one subject line, and the timeline says so."""
    from flask_maventa.extension import current_maventa
    from flask_maventa.infra.models import Event
    from flask_maventa.services import transfer
    from flask_maventa.testing import MemoryAdapter
    from tests.fixtures.apps import FJORD, FJORD_BERGEN, PERSONS, STATUSES

    from .conftest import invoice_document
    from .test_secrets import _connect

    adapter = MemoryAdapter()
    for company in (FJORD, FJORD_BERGEN):
        adapter.add_company(company, PERSONS, STATUSES)
    app = make_app(tmp_path, adapter, mailer=HostMailer(), MAVENTA_SANDBOX_URL=sandbox.url, MAVENTA_VENDOR_API_KEY=sandbox.vendor_api_key,
                   MAVENTA_REDIS_URL="redis://127.0.0.1:1/0", MAVENTA_MAIL_SERVER="127.0.0.1",
                   MAVENTA_MAIL_PORT=smtp_server.port)
    with app.app_context():
        company_uuid, api_key = sandbox.new_company(verified=False)
        _connect("c1", company_uuid, api_key)  # never signed: Maventa refuses, the transfer fails
        adapter.add_invoice("i1", "c1", "ready", invoice_document("A-1\r\nBcc: thief@evil.example"))
        (transfer_id,) = transfer.sweep(dispatch=False).created
        assert transfer.send(transfer_id).state == "failed"
        (mail,) = smtp_server.wait_for(1)
        assert mail["Bcc"] is None and "A-1" in mail["Subject"] and "\n" not in mail["Subject"]
        assert current_maventa().session.query(Event).filter_by(kind="transfer.mail").count() == 1


def test_tls_settings_that_cannot_work_stop_start_up(tmp_path):
    with pytest.raises(ConfigurationError, match="only one of MAVENTA_MAIL_USE_TLS"):
        make_app(tmp_path, MAVENTA_MAIL_USE_TLS=True, MAVENTA_MAIL_USE_SSL=True)
    with pytest.raises(ConfigurationError, match="password would cross the network in clear"):
        make_app(tmp_path, MAVENTA_ENVIRONMENT="production", MAVENTA_SECRET_KEY=Fernet.generate_key().decode(),
                 MAVENTA_VENDOR_API_KEY="v", MAVENTA_MAIL_SERVER="smtp.example", MAVENTA_MAIL_USERNAME="erp")
