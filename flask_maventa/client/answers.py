"""Maventa's answers as types: the swagger's response models, one ``TypedDict`` each.

Field names are the swagger's (``autoxchange-swagger-0.85.550.json``; the class docstring names its
definition, and ``tests/client/test_answers_types.py`` checks the fields against it). Nothing here
checks an answer at run time: any field may be missing or null (Maventa leaves unset fields null),
so every value is optional, and code reading an answer still treats what it gets as untrusted.
"""
from __future__ import annotations

from typing import TypeAlias, TypedDict

__all__ = [
    "CompanyAuthorization",
    "CompanyAuthorizationStatus",
    "CompanyLookup",
    "CompanySettings",
    "CompanyUser",
    "Invoice",
    "InvoiceAction",
    "JSONObject",
    "JSONValue",
    "LookupEntryReceiver",
    "NewCompanyUser",
    "Notification",
    "OAuthCurrent",
]

# Any JSON document, for the parts the swagger leaves open (an invoice's ``revision``).
JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = "dict[str, JSONValue]"


class ApiUser(TypedDict, total=False):
    """``API_Entities_User``."""

    id: str | None
    first_name: str | None
    last_name: str | None
    email: str | None


class CompanyParty(TypedDict, total=False):
    """``API_Entities_CompanyParty``."""

    bid: str | None
    name: str | None
    country: str | None
    vat: str | None
    id: str | None
    wizard_done: bool | None
    disabled: bool | None


class OAuthCurrent(TypedDict, total=False):
    """``API_Entities_OAuthCurrent``."""

    user: ApiUser | None
    company: CompanyParty | None
    scopes: list[str] | None


class CompanyAuthorizationStatus(TypedDict, total=False):
    """``API_Entities_CompanyAuthorizationStatus``."""

    auth_state: str | None
    auth_email: str | None
    company_state: str | None


class CompanyAuthorization(TypedDict, total=False):
    """``API_Entities_CompanyAuthorization``."""

    status: str | None
    count: int | None


class NewCompanyUser(TypedDict, total=False):
    """``API_Entities_CompanyUsers_NewUser``."""

    id: str | None
    email: str | None
    notifications_disabled: float | None
    emails_disabled: float | None
    role: str | None
    api_key: str | None


class CompanyUser(TypedDict, total=False):
    """``API_Entities_CompanyUsers_User``."""

    id: str | None
    email: str | None
    notifications_disabled: float | None
    emails_disabled: float | None
    role: str | None


class InvoiceSenderParty(TypedDict, total=False):
    """``Invoices_HttpApi_Entities_InvoiceSenderParty``."""

    eia: str | None
    bid: str | None
    name: str | None
    country: str | None


class InvoiceRecipientParty(TypedDict, total=False):
    """``Invoices_HttpApi_Entities_InvoiceRecipientParty``."""

    eia: str | None
    bid: str | None
    name: str | None
    country: str | None
    operator: str | None


class InvoiceFile(TypedDict, total=False):
    """``Invoices_HttpApi_Entities_InvoiceFile``."""

    id: str | None
    filename: str | None
    type: str | None
    mimetype: str | None
    href: str | None


class InvoiceAction(TypedDict, total=False):
    """``Invoices_HttpApi_Entities_InvoiceAction``."""

    type: str | None
    channel: str | None
    message: str | None
    key: str | None
    happened_at: str | None


class Invoice(TypedDict, total=False):
    """``Invoices_HttpApi_Entities_Invoice``."""

    id: str | None
    status: str | None
    reference: str | None
    number: str | None
    sender: InvoiceSenderParty | None
    recipient: InvoiceRecipientParty | None
    received_at: str | None
    created_at: str | None
    date: str | None
    date_due: str | None
    source_format: str | None
    sum: float | None
    sum_tax: float | None
    currency: str | None
    origin: str | None
    origin_type: str | None
    destination: str | None
    comment: str | None
    files: list[InvoiceFile] | None
    actions: list[InvoiceAction] | None
    revision: JSONObject | None


class CompanyDetails(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanyDetails``."""

    name: str | None
    email: str | None
    website: str | None
    country: str | None
    bid: str | None
    vat_number: str | None


class CompanyAddress(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanyAddress``."""

    street_address: str | None
    post_code: str | None
    post_office: str | None
    city: str | None
    country: str | None


class CompanySendInvoiceEmailOnReceivingData(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanySendInvoiceEmailOnReceivingData``."""

    enabled: bool | None
    how_to_send: str | None
    other_email: str | None


class CompanySendInvoiceEmailOnSendErrorsData(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanySendInvoiceEmailOnSendErrorsData``."""

    to_user: bool | None
    to_emails: list[str] | None


class CompanyInvoiceNotifications(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanyInvoiceNotifications``."""

    on_receiving: CompanySendInvoiceEmailOnReceivingData | None
    on_send_errors: CompanySendInvoiceEmailOnSendErrorsData | None


class CompanySendInvoiceEmailContentDataContactData(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanySendInvoiceEmailContentDataContactData``."""

    email: str | None
    name: str | None
    phone: str | None


class CompanySendInvoiceEmailContentData(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanySendInvoiceEmailContentData``."""

    note_to_receiver: str | None
    contact: CompanySendInvoiceEmailContentDataContactData | None


class CompanySendInvoiceEmail(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanySendInvoiceEmail``."""

    enabled: bool | None
    how_to_send: str | None
    reminder_frequency: float | None
    content_data: CompanySendInvoiceEmailContentData | None


class CompanySendInvoicePrintSettings(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanySendInvoicePrintSettings``."""

    enabled: bool | None
    letter_class: str | None
    color_scheme: str | None
    attachment_print: bool | None
    marketing_page: bool | None
    use_own_pdf: bool | None


class CompanySendInvoiceGeneralSettings(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanySendInvoiceGeneralSettings``."""

    stop_duplicate_numbers: bool | None
    hold_multiple_recipients: bool | None


class CompanyLogoData(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanyLogoData``."""

    content: str | None


class CompanyHeaderImage(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanyHeaderImage``."""

    content: str | None


class CompanyLogos(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanyLogos``."""

    pdf: CompanyLogoData | None
    email_header: CompanyHeaderImage | None


class CompanyEmailReports(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanyEmailReports``."""

    report_interval: str | None
    email_reports: list[str] | None


class CompanyBillingDetailsElectronicInvoicingData(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanyBillingDetailsElectronicInvoicingData``."""

    invoicing_eia: str | None
    invoicing_operator: str | None


class CompanyBillingDetails(TypedDict, total=False):
    """``API_Entities_CompanySettings_CompanyBillingDetails``."""

    electronic_invoicing_details: CompanyBillingDetailsElectronicInvoicingData | None
    invoicing_email: str | None
    invoicing_street_address1: str | None
    invoicing_street_address2: str | None
    invoicing_post_code: str | None
    invoicing_post_office: str | None
    billing_company_id: str | None


class CompanySettings(TypedDict, total=False):
    """``API_Entities_CompanySettings_Settings``."""

    details: CompanyDetails | None
    address: CompanyAddress | None
    invoice_notifications: CompanyInvoiceNotifications | None
    send_invoice_email: CompanySendInvoiceEmail | None
    send_invoice_print: CompanySendInvoicePrintSettings | None
    send_invoice_general: CompanySendInvoiceGeneralSettings | None
    logos: CompanyLogos | None
    email_reports: CompanyEmailReports | None
    billing_details: CompanyBillingDetails | None


class Notification(TypedDict, total=False):
    """``API_Entities_Notifications_Notification``."""

    id: str | None
    destination_type: str | None
    destination: str | None
    vendor_key: str | None
    events: list[str] | None


class Identifier(TypedDict, total=False):
    """``API_Entities_Identifier``."""

    scheme: str | None
    eaid_name: str | None
    eaid_code: str | None
    endpoint_id: str | None


class DocumentType(TypedDict, total=False):
    """``API_Entities_DocumentType``."""

    document_type: str | None
    document_identifier: str | None
    process_identifier: str | None


class Participant(TypedDict, total=False):
    """``API_Entities_Participant``."""

    id: str | None
    name: str | None
    bid: str | None
    country: str | None


class LookupEntryReceiver(TypedDict, total=False):
    """``API_Entities_LookupEntryReceiver``."""

    eia: str | None
    identifier: Identifier | None
    network: str | None
    operator: str | None
    document_types: list[DocumentType] | None
    participant: Participant | None


class CompanyLookup(TypedDict, total=False):
    """``Partner_HttpApi_Entities_CompanyLookups``."""

    company_bid: str | None
    company_status: str | None
