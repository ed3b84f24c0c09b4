"""Onboarding (PRODUCT.md §1): registering a company at Maventa or connecting an existing account
(:mod:`.registration`), and the signing request until the company is verified (:mod:`.signing`).

Views and jobs call these functions; none of them reads the request. They change our rows in the host's
session and the caller commits. Failures are :class:`OnboardingError` subclasses (:mod:`.errors`).
"""

from ...client.api import SIGNING_LOCALES
from ..companies import PENDING_AUTH_STATES
from .errors import AccessRefused, BusinessIdTaken, CredentialsRefused, MaventaUnreachable, OnboardingError
from .registration import (
    MASK_CHAR,
    Connected,
    Registration,
    check_api_key,
    check_business_id,
    connect_existing,
    masked_key,
    parse_company_uuid,
    refused,
    register,
    seal_key,
    unseal_key,
)
from .signing import (
    announce_if_verified,
    check_signing_if_due,
    locale_for,
    poll_pending_signings,
    refresh_signing_state,
    send_authorization,
    signing_due,
)

__all__ = [
    "MASK_CHAR", "PENDING_AUTH_STATES", "SIGNING_LOCALES", "AccessRefused", "BusinessIdTaken", "Connected",
    "CredentialsRefused", "MaventaUnreachable", "OnboardingError", "Registration", "announce_if_verified",
    "check_api_key", "check_business_id", "check_signing_if_due", "connect_existing", "locale_for", "masked_key",
    "parse_company_uuid", "poll_pending_signings", "refresh_signing_state", "refused", "register", "seal_key",
    "send_authorization", "signing_due", "unseal_key",
]
