"""The default mailer for error reports: SMTP with the ``MAVENTA_MAIL_*`` keys.

TLS, when on, verifies the server's certificate and host name (``ssl.create_default_context``)
before the password is sent: STARTTLS with ``MAVENTA_MAIL_USE_TLS`` (port 587), TLS from the first
byte with ``MAVENTA_MAIL_USE_SSL`` (port 465).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from flask import current_app

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")  # CR/LF would end the header line and start another


def header_text(value: str) -> str:
    """A header value on one line: an invoice number with a line break cannot add a header."""
    return _CONTROL.sub(" ", str(value)).strip()


def send_smtp_mail(to: Sequence[str], subject: str, body: str) -> None:
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = header_text(cfg["MAVENTA_MAIL_SENDER"])
    message["To"] = ", ".join(header_text(address) for address in to)
    message["Subject"] = header_text(subject)
    message.set_content(body)
    host, port = cfg["MAVENTA_MAIL_SERVER"], int(cfg["MAVENTA_MAIL_PORT"])
    context = ssl.create_default_context()
    if cfg["MAVENTA_MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(host, port, timeout=10, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=10)
    with smtp:
        if cfg["MAVENTA_MAIL_USE_TLS"] and not cfg["MAVENTA_MAIL_USE_SSL"]:
            smtp.starttls(context=context)
        if cfg["MAVENTA_MAIL_USERNAME"]:
            smtp.login(cfg["MAVENTA_MAIL_USERNAME"], cfg["MAVENTA_MAIL_PASSWORD"] or "")
        smtp.send_message(message)
