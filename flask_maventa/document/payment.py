"""How the buyer pays, in the invoice model: :class:`PaymentMeans` (account, payment reference,
direct debit mandate) and :class:`PaymentCard`. The numbers in brackets are the EN 16931 business terms."""

from __future__ import annotations

from .model import Blankless, constrained, model


@model
class PaymentCard(Blankless):
    """A payment card [BG-18]; never the full card number."""

    account_number: str
    """The last 4 to 6 digits of the card number [BT-87]."""
    network: str = "NA"
    """Card network, e.g. ``"VISA"``, ``"MasterCard"``; UBL requires one (``"NA"`` when unknown)."""
    holder_name: str | None = None
    """Card holder name [BT-88]."""


@model
class PaymentMeans(Blankless):
    """How the buyer pays [BG-16]. Usually one bank transfer."""

    code: str = constrained(default="30", pattern=r"^[0-9A-Z]{1,3}$")
    """UNCL 4461 code: ``30`` credit transfer, ``58`` SEPA credit transfer, ``31`` debit transfer,
    ``42`` payment to bank account (Denmark), ``1`` not defined, ``48`` card, ``49``/``59``
    direct debit [BT-81]."""
    account: str | None = None
    """Payee account: IBAN, or a national account number (Norwegian 11 digits, Swedish
    bankgiro/plusgiro, Danish account) [BT-84]."""
    account_name: str | None = None
    """Account holder [BT-85]."""
    bic: str | None = None
    """BIC of the bank; for Swedish giro ``"SE:BANKGIRO"`` / ``"SE:PLUSGIRO"``, for a Danish
    account the registration number [BT-86]."""
    payment_id: str | None = None
    """Structured payment reference: KID (NO), viitenumero or RF reference (FI), OCR (SE),
    FIK/+71 (DK) [BT-83]."""
    mandate_id: str | None = None
    """Direct debit mandate reference (codes 49/59) [BT-89]."""
    payer_account: str | None = None
    """Direct debit: the buyer's account that is debited, e.g. for Danish Betalingsservice (code 49) [BT-91]."""
    text: str | None = None
    """Payment means in words, e.g. ``"Bank transfer"`` [BT-82]."""
    card: PaymentCard | None = None
    """Payment card the invoice was or will be paid with (code 48, 54, 55) [BG-18]."""
