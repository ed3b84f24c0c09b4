"""Onboarding (PRODUCT.md §1): registering a company at Maventa or connecting an existing account
(:mod:`.registration`; the pasted credentials are checked in :mod:`.credentials`), and the signing request
until the company is verified (:mod:`.signing`).

Views and jobs call these functions; none of them reads the request. They change our rows in the host's
session and the caller commits. Failures are :class:`OnboardingError` subclasses (:mod:`.errors`).
"""

from ...client.account import SIGNING_LOCALES
from ..companies import PENDING_AUTH_STATES
from .credentials import MASK_CHAR, check_api_key, masked_key, parse_company_uuid, seal_key, unseal_key
from .errors import AccessRefused, BusinessIdTaken, CredentialsRefused, MaventaUnreachable, OnboardingError
from .registration import Connected, Registration, check_business_id, connect_existing, refused, register
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
