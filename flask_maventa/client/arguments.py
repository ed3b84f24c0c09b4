"""The arguments the client sends, checked and shaped before the network: required values, choices,
``name[]`` arrays, multipart form fields, and settings blocks as JSON objects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from . import errors
from .answers import JSONValue


def require(value: str | None, what: str) -> str:
    if not value or not str(value).strip():
        raise ValueError(f"{what} is required")
    return str(value).strip()


def choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def array(name: str, values: Iterable[object]) -> list[tuple[str, str]]:
    return [(f"{name}[]", str(v)) for v in values]


def form_field(value: object) -> tuple[None, str]:
    """A multipart part without a filename (a plain form field)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return (None, str(value))


def error_text(exc: errors.MaventaError) -> str:
    """Everything Maventa said in an error: code, message and details (where its wording may be)."""
    return " ".join([exc.code or "", exc.message, *(str(d) for d in exc.details)])


def json_object(value: object) -> dict[str, JSONValue]:
    """A typed answer or argument as the plain JSON object it is (an empty one when it is not an object)."""
    return cast("dict[str, JSONValue]", value) if isinstance(value, dict) else {}


def without_nulls(value: JSONValue) -> JSONValue:
    """A settings block as it can be sent back: Maventa shows unset fields as null, the PATCH
    schema types them as strings/booleans, so an unset field is left out instead."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value if v is not None]
    return value
