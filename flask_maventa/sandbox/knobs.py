"""The sandbox's knobs: how Maventa-like it behaves in time, failure and the points Maventa's docs leave
open. Set them as ``create_app(**knobs)``, CLI flags, or ``POST /_sandbox/config`` with JSON."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

__all__ = ["KnobError", "Knobs"]


class KnobError(ValueError):
    pass


@dataclass
class Knobs:
    # -- time --------------------------------------------------------------------------------------
    token_lifetime: float = 3600.0        # seconds a token lives (Maventa: 60 minutes)
    delivery_delay: float = 0.0           # seconds from PENDING to DELIVERED/FAILED (0: next read/tick)
    sign_delay: float | None = None       # seconds from "sign request sent" to signed (None: only by hand)
    # -- where Maventa's documentation is silent: each plausible answer (README, "Sandbox knobs") --
    duplicate_uuid: str = "return"        # same uuid again: "return" the existing invoice, "conflict" 409,
                                          # "unprocessable" 422
    unverified_status: int = 401          # status of "Unauthorized" while the company is unverified
    scope_aliases: str = "expand"         # "expand": a token asked with eui holds global's parts and so global;
                                          # "literal": an operation's scope must have been asked by name
    scope_error_status: int = 401         # the token lacks the operation's scope (swagger's generic table: 401)
    refused_scopes: list[str] = field(default_factory=list)  # scopes this vendor key may not ask for...
    refused_scope_answer: str = "invalid_scope"  # ...answered 400 "invalid_scope", or "narrow": granted without
    bid_taken_status: int = 422           # status of "BID ALREADY TAKEN" (400, 409, 422 are plausible)
    bid_taken_in: str = "message"         # where the words are: "code", "message" or "details"
    existing_user: str = "empty"          # POST /v1/users for a known email: "empty" 201 {} or "error" (4xx)
    existing_user_status: int = 422       # the status of that error
    signing_interim: list[str] = field(default_factory=list)  # auth states shown before SIGNED, one per read
    verify_delay: float = 0.0             # seconds from SIGNED to company_state VERIFIED
    invalid_after_accept: float = 0.0     # share of accepted invoices that later FAIL Maventa's validation
    webhook_payload: str = "flat"         # the unknown webhook body: "flat" (id and invoice_id), "id", "data",
                                          # "invoice_id", or "unrecognised" (no id a receiver could know)
    # -- faults --------------------------------------------------------------------------------------
    latency_ms: float = 0.0               # added before every API request
    error_rate: float = 0.0               # share of API requests answered 500 before doing anything
    drop_rate: float = 0.0                # share processed and stored, then the connection closed unanswered
    reset_rate: float = 0.0               # share whose connection is closed before processing (nothing stored)
    throttle_rate: float = 0.0            # share answered 429 before doing anything
    fault_paths: list[str] = field(default_factory=list)  # "POST /v1/invoices" or "/v1/": where faults apply
    rate_limit: float = 0.0               # requests per second per client (0: off); beyond it 429
    retry_after: float | None = 1.0       # Retry-After of an injected 429 (None: no header; rate_limit says the wait)
    seed: int | None = None               # RNG seed for failure injection
    webhook_retries: int = 3              # attempts after the first failed webhook POST
    webhook_retry_delay: float = 1.0      # seconds between webhook attempts
    check_responses: bool = True          # validate every JSON answer against the swagger, record problems
    echo_errors: bool = False             # error answers quote the request (form, JSON, Authorization), as a
                                          # careless server or proxy would: secrets must still never be stored

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "duplicate_uuid": ("return", "conflict", "unprocessable"),
        "scope_aliases": ("expand", "literal"),
        "refused_scope_answer": ("invalid_scope", "narrow"),
        "bid_taken_in": ("code", "message", "details"),
        "existing_user": ("empty", "error"),
        "webhook_payload": ("flat", "id", "data", "invoice_id", "unrecognised"),
    }
    LISTS: ClassVar[dict[str, str]] = {"fault_paths": "'POST /v1/invoices'", "refused_scopes": "'partner:lookups'",
                                       "signing_interim": "'PENDING' or 'UNKNOWN'"}
    # default None allowed, with their type
    OPTIONAL: ClassVar[dict[str, type[float] | type[int]]] = {"sign_delay": float, "seed": int, "retry_after": float}
    RATES: ClassVar[tuple[str, ...]] = ("error_rate", "drop_rate", "reset_rate", "throttle_rate",
                                        "invalid_after_accept")

    def update(self, values: Mapping[str, object]) -> None:
        fields = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise KnobError(f"unknown knob(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}")
        checked = {name: self._coerce(name, value) for name, value in values.items()}
        for name, value in checked.items():
            setattr(self, name, value)

    def _coerce(self, name: str, value: object) -> object:
        if name in self.CHOICES:
            if value not in self.CHOICES[name]:
                raise KnobError(f"{name} must be one of {', '.join(self.CHOICES[name])}")
            return value
        if name in self.LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise KnobError(f"{name} must be a list of strings like {self.LISTS[name]}")
            return value
        if value is None and name in self.OPTIONAL:
            return None
        kind: type[float] | type[int] | type[bool] = self.OPTIONAL.get(name) or type(getattr(Knobs(), name))
        if kind is bool:
            if not isinstance(value, bool):
                raise KnobError(f"{name} must be true or false")
            return value
        try:
            if not isinstance(value, (int, float, str)):
                raise TypeError(value)
            value = kind(value)
        except (TypeError, ValueError):
            raise KnobError(f"{name} must be a number, not {value!r}") from None
        if value < 0:
            raise KnobError(f"{name} must not be negative")
        if name in self.RATES and value > 1:
            raise KnobError(f"{name} is a share between 0 and 1")
        if name.endswith("_status") and not 400 <= value <= 499:
            raise KnobError(f"{name} must be a 4xx status")
        return value

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)
