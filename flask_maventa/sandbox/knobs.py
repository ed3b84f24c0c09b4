"""The sandbox's knobs: how Maventa-like it behaves in time, failure and the points Maventa's docs leave
open. Set them as ``create_app(**knobs)``, CLI flags, or ``POST /_sandbox/config`` with JSON."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Knobs", "KnobError"]


class KnobError(ValueError):
    pass


@dataclass
class Knobs:
    token_lifetime: float = 3600.0        # seconds a token lives (Maventa: 60 minutes)
    delivery_delay: float = 0.0           # seconds from PENDING to DELIVERED/FAILED (0: next read/tick)
    sign_delay: float | None = None       # seconds from "sign request sent" to SIGNED (None: only by hand)
    duplicate_uuid: str = "return"        # same uuid again: "return" the existing invoice, or "conflict" 409
    unverified_status: int = 401          # status of "Unauthorized" while the company is unverified
    scope_error_status: int = 403         # status when the token lacks the operation's scope
    bid_taken_status: int = 422           # status of "BID ALREADY TAKEN"
    latency_ms: float = 0.0               # added before every API request
    error_rate: float = 0.0               # share of API requests answered 500 before doing anything
    drop_rate: float = 0.0                # share processed and stored, then the connection closed unanswered
    reset_rate: float = 0.0               # share whose connection is closed before processing (nothing stored)
    fault_paths: list[str] = field(default_factory=list)  # "POST /v1/invoices" or "/v1/": where faults apply
    rate_limit: float = 0.0               # requests per second per client (0: off); beyond it 429 + Retry-After
    seed: int | None = None               # RNG seed for failure injection
    webhook_retries: int = 3              # attempts after the first failed webhook POST
    webhook_retry_delay: float = 1.0      # seconds between webhook attempts
    check_responses: bool = True          # validate every JSON answer against the swagger, record problems

    CHOICES = {"duplicate_uuid": ("return", "conflict")}
    OPTIONAL = {"sign_delay": float, "seed": int}  # knobs whose default is None, with their type
    RATES = ("error_rate", "drop_rate", "reset_rate")

    def update(self, values: dict[str, Any]) -> None:
        fields = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise KnobError(f"unknown knob(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}")
        checked = {name: self._coerce(name, value) for name, value in values.items()}
        for name, value in checked.items():
            setattr(self, name, value)

    def _coerce(self, name: str, value: Any) -> Any:
        if name in self.CHOICES:
            if value not in self.CHOICES[name]:
                raise KnobError(f"{name} must be one of {', '.join(self.CHOICES[name])}")
            return value
        if name == "fault_paths":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise KnobError("fault_paths must be a list of strings like 'POST /v1/invoices'")
            return value
        if value is None and name in self.OPTIONAL:
            return None
        kind = self.OPTIONAL.get(name) or type(getattr(Knobs(), name))
        if kind is bool:
            if not isinstance(value, bool):
                raise KnobError(f"{name} must be true or false")
            return value
        try:
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

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
