"""The default mailer for error reports: plain SMTP with the ``MAVENTA_MAIL_*`` keys."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.message import EmailMessage

from flask import current_app


def send_smtp_mail(to: Sequence[str], subject: str, body: str) -> None:
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["MAVENTA_MAIL_SENDER"]
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(cfg["MAVENTA_MAIL_SERVER"], int(cfg["MAVENTA_MAIL_PORT"]), timeout=10) as smtp:
        if cfg["MAVENTA_MAIL_USE_TLS"]:
            smtp.starttls()
        if cfg["MAVENTA_MAIL_USERNAME"]:
            smtp.login(cfg["MAVENTA_MAIL_USERNAME"], cfg["MAVENTA_MAIL_PASSWORD"] or "")
        smtp.send_message(message)
