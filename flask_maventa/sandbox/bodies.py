"""What the sandbox's views read from a request, typed with the swagger's names.

The gate validates every API request against the swagger before a view runs, so a view takes a body
as its type (``typing.cast``): a required field is there and a string field is a string. formData
values are the strings as sent ("true"/"false" for booleans); ``name[]`` arrays are lists.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypeAlias, TypedDict

__all__ = ["AuthorizationBody", "CompanyForm", "CompanyUserBody", "JSONData", "JSONObject", "JSONValue",
           "NotificationBody", "UploadParams", "UserBody"]

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = "dict[str, JSONValue]"
# What a view answers: read-only, so that a ``dict[str, int]`` is one too (a ``dict`` is invariant).
JSONData: TypeAlias = "Mapping[str, JSONData] | Sequence[JSONData] | str | int | float | bool | None"


class UserBody(TypedDict):
    """``POST /v1/users``"""

    vendor_api_key: str
    email: str
    first_name: NotRequired[str]
    last_name: NotRequired[str]


class CompanyUserBody(TypedDict):
    """``POST /v1/company/users``"""

    email: str
    first_name: str
    last_name: NotRequired[str]
    phone: NotRequired[str]
    user_role: NotRequired[str]
    notifications_disabled: NotRequired[bool]
    emails_disabled: NotRequired[bool]


class AuthorizationBody(TypedDict):
    """``POST /v1/company/authorization``"""

    auth_email: str
    locale: str
    options: NotRequired[str]


class NotificationBody(TypedDict):
    """``POST /v1/company/notifications``"""

    destination_type: str
    destination: str
    events: list[str]
    vendor_key: NotRequired[str]


class CompanyForm(TypedDict):
    """``POST /v1/companies`` (formData)"""

    vendor_api_key: str
    user_api_key: str
    name: str
    bid: str
    no_vat: str
    address1: str
    address2: NotRequired[str]
    post_code: str
    post_office: str
    city: str
    state: NotRequired[str]
    country: str
    email: str


# ``POST /v1/invoices`` (formData, less the file); bracketed names need the functional form.
UploadParams = TypedDict("UploadParams", {
    "format": str, "recipient_type": str, "recipient_eia": str, "recipient_email": str,
    "recipient_operator": str, "disabled_routes": list[str], "sender_comment": str, "uuid": str, "lang": str,
    "route_order": list[str], "recipient_phone_number": str, "recipient_date_of_birth": str,
    "recipient_ssn": str, "recipient_efaktura_id": str, "b2cno_document_type": str,
    "payment_instruction_identifier": str, "print_settings[color]": str, "print_settings[letter_class]": str,
    "print_settings[prevent_digital_post]": str, "print_settings[print_own_image]": str,
    "print_settings[allow_kivra_fi]": str, "prevent_routing": str, "email_settings[xml_format]": str,
}, total=False)
