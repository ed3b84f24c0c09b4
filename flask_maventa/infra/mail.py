"""Error emails: the mailer the extension sends them with (``Maventa(mailer=...)``), and the defaults.

A mailer is any object with ``send(to, subject, body)``. Without one, :class:`HostMailer` sends through
the host's own mail extension when it has one -- Flask-Mailman, else Flask-Mail, as Flask-Security's
mail util does -- and otherwise speaks SMTP itself with the ``MAVENTA_MAIL_*`` keys (:class:`SmtpMailer`).

SMTP with TLS verifies the server's certificate and host name (``ssl.create_default_context``)
before the password is sent: STARTTLS with ``MAVENTA_MAIL_USE_TLS`` (port 587), TLS from the first
byte with ``MAVENTA_MAIL_USE_SSL`` (port 465).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Protocol

from flask import current_app

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")  # CR/LF would end the header line and start another
DEFAULT_SENDER = "maventa@localhost"  # SMTP's sender when MAVENTA_MAIL_SENDER is not set


class Mailer(Protocol):
    """Sends one plain-text email; raises when it could not (the transfer's timeline says so)."""

    def send(self, to: Sequence[str], subject: str, body: str) -> None: ...


def header_text(value: str) -> str:
    """A header value on one line: an invoice number with a line break cannot add a header."""
    return _CONTROL.sub(" ", str(value)).strip()


class SmtpMailer:
    """SMTP with the ``MAVENTA_MAIL_*`` keys of the current app."""

    def send(self, to: Sequence[str], subject: str, body: str) -> None:
        cfg = current_app.config
        message = EmailMessage()
        message["From"] = header_text(cfg["MAVENTA_MAIL_SENDER"] or DEFAULT_SENDER)
        message["To"] = ", ".join(header_text(address) for address in to)
        message["Subject"] = header_text(subject)
        message.set_content(body)
        host, port = cfg["MAVENTA_MAIL_SERVER"], int(cfg["MAVENTA_MAIL_PORT"])
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
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


class HostMailer:
    """The host's Flask-Mailman or Flask-Mail when the current app has one, else :class:`SmtpMailer`.

    Looked up when sending, so the host may set its mail extension up before or after ours. The sender
    is MAVENTA_MAIL_SENDER, or the host extension's own default sender when that is not set.
    """

    def __init__(self) -> None:
        self.smtp = SmtpMailer()

    def send(self, to: Sequence[str], subject: str, body: str) -> None:
        extensions = current_app.extensions
        sender = current_app.config["MAVENTA_MAIL_SENDER"] or None
        recipients = [header_text(address) for address in to]
        if "mailman" in extensions:
            from flask_mailman import EmailMessage as MailmanMessage

            MailmanMessage(header_text(subject), body, sender, recipients).send()
        elif "mail" in extensions:
            from flask_mail import Message

            message = Message(header_text(subject), recipients=list[str | tuple[str, str]](recipients), body=body,
                              sender=sender)
            extensions["mail"].send(message)
        else:
            self.smtp.send(to, subject, body)
