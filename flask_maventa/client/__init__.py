"""Maventa AutoXChange API client (plain httpx, no Flask).

    client = MaventaClient("test", vendor_api_key, token_store=RedisTokenStore(redis))
    company = client.for_company(company_uuid, user_api_key)
    invoice = company.send_invoice(xml, "invoice.xml", uuid=our_uuid, recipient_eia="0192:987654321")
"""
from .api import BASE_URLS, DEFAULT_TIMEOUT, CompanyClient, MaventaClient, PartnerClient
from .auth import DEFAULT_SCOPE, MaventaAuth
from .errors import (
    BusinessIdTakenError,
    ConflictError,
    ConnectError,
    InDoubtError,
    InvalidCredentialsError,
    InvalidParametersError,
    InvalidResponseError,
    InvalidScopeError,
    MaventaError,
    MissingScopeError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    ServerError,
    TransientError,
    UnauthorizedError,
    UnverifiedCompanyError,
)
from .scopes import COMPANY_SCOPE, PARTNER_SCOPE
from .tokens import MemoryTokenStore, RedisTokenStore, Token, TokenStore

__all__ = [
    "BASE_URLS",
    "COMPANY_SCOPE",
    "DEFAULT_SCOPE",
    "DEFAULT_TIMEOUT",
    "PARTNER_SCOPE",
    "BusinessIdTakenError",
    "CompanyClient",
    "ConflictError",
    "ConnectError",
    "InDoubtError",
    "InvalidCredentialsError",
    "InvalidParametersError",
    "InvalidResponseError",
    "InvalidScopeError",
    "MaventaAuth",
    "MaventaClient",
    "MaventaError",
    "MemoryTokenStore",
    "MissingScopeError",
    "NotFoundError",
    "PartnerClient",
    "PermanentError",
    "RateLimitedError",
    "RedisTokenStore",
    "ServerError",
    "Token",
    "TokenStore",
    "TransientError",
    "UnauthorizedError",
    "UnverifiedCompanyError",
]
