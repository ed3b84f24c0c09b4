"""The JSON form of the model's frozen dataclasses: parse with every problem reported at once, and dump.

Only the types the invoice model uses are supported: ``str``, ``bool``, ``Decimal``
(JSON string such as ``"12.50"`` or a JSON number), ``datetime.date`` (``"YYYY-MM-DD"``),
``bytes`` (base64 string), nested dataclasses, ``tuple[X, ...]`` (JSON array) and ``X | None``.
Constraints sit in the field's metadata (see :func:`~.model.constrained`), so the parser and the
schema (:mod:`.schema`) never disagree (the parser is lenient in one way only: an object holding
only blanks is read as absent, as Blankless would make it).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import re
import typing
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, TypeVar, cast

from .findings import DocumentError, Finding
from .markers import N_
from .model import field_default, type_hints, unwrap_optional

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)
_DATE_RE = re.compile(DATE_PATTERN)
_BASE64_RE = re.compile(r"^[A-Za-z0-9+/\s]*={0,2}\s*$")
_T = TypeVar("_T")


def _problem(path: str, message: str, rules: tuple[str, ...] = (), **params: Any) -> Finding:
    return Finding("JSON_INVALID", "error", path, message,
                   N_("Correct the invoice data sent by the ERP (field {path})."), {"path": path, **params},
                   rules=tuple(rules))


def blank_json(value: Any) -> bool:
    """The JSON form of "absent": null, blank text, and a list or object holding only blanks."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    if isinstance(value, dict):
        return all(blank_json(v) for v in value.values())
    if isinstance(value, list):
        return all(blank_json(v) for v in value)
    return False


# -- parsing --------------------------------------------------------------------------

def parse(cls: type[_T], data: object) -> _T:
    """Build ``cls`` from its JSON form, or raise :class:`DocumentError` listing every problem."""
    problems: list[Finding] = []
    value = _parse_dataclass(cls, data, "", problems)
    if problems:
        raise DocumentError(problems)
    return cast(_T, value)  # without problems, _parse_dataclass built a cls


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


@dataclasses.dataclass(frozen=True)
class _Kind:
    """A field's type as the parser needs it, worked out once per type hint instead of per value."""

    name: str  # "dataclass", "tuple", "bool", "decimal", "date", "bytes", "str" or "unsupported"
    optional: bool
    inner: Any = None  # the dataclass; a tuple's item _Kind; an unsupported type


@cache
def _kind(tp: Any) -> _Kind:
    tp, optional = unwrap_optional(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _Kind("dataclass", optional, tp)
    if typing.get_origin(tp) is tuple:
        return _Kind("tuple", optional, _kind(typing.get_args(tp)[0]))
    simple = {bool: "bool", Decimal: "decimal", dt.date: "date", bytes: "bytes", str: "str"}
    return _Kind(simple.get(tp, "unsupported"), optional, tp)


@cache
def _parse_plan(cls: type) -> tuple[dict[str, Any], tuple[tuple[str, _Kind, bool, Any], ...]]:
    """A model class's fields for the parser: ``(fields by name, ((name, kind, has default, metadata), ...))``."""
    hints = type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    return fields, tuple((name, _kind(hints[name]), field_default(f) is not dataclasses.MISSING, _compiled(f.metadata))
                         for name, f in fields.items())


def _compiled(meta: Any) -> Any:
    """A field's constraints with its ``pattern`` compiled once, not looked up in re's cache per value."""
    return {**meta, "pattern": re.compile(meta["pattern"])} if "pattern" in meta else meta


def _parse_dataclass(cls: type, data: Any, path: str, problems: list[Finding]) -> Any:
    if not isinstance(data, dict):
        problems.append(_problem(path or "(document)", N_("Expected an object.")))
        return None
    fields, plan = _parse_plan(cls)
    for key in data:
        if key not in fields:
            problems.append(_problem(_join(path, str(key)), N_("Unknown field \"{name}\"."), name=str(key)))
    kwargs = {}
    before = len(problems)
    for name, kind, has_default, meta in plan:
        if name not in data:
            if not has_default:
                problems.append(_problem(_join(path, name), N_("Required field \"{name}\" is missing."),
                                         meta.get("rules", ()), name=name))
            continue
        value = data[name]
        if has_default and not (kind.name == "str" and isinstance(value, str)) and blank_json(value):
            continue  # blank is absent: the default
        kwargs[name] = _parse_value(kind, value, _join(path, name), problems, meta)
    if len(problems) > before:
        return None
    return cls(**kwargs)


def _parse_value(kind: _Kind, value: Any, path: str, problems: list[Finding], meta: Any = None) -> Any:
    if value is None or (isinstance(value, str) and kind.name != "str" and not value.strip()):
        if not kind.optional:
            problems.append(_problem(path, N_("A value is required here, not null."), (meta or {}).get("rules", ())))
        return None
    name = kind.name
    if name == "str":
        return _parse_str(value, path, problems, meta or {})
    if name == "dataclass":
        return _parse_dataclass(kind.inner, value, path, problems)
    if name == "tuple":
        if not isinstance(value, list):
            problems.append(_problem(path, N_("Expected a list.")))
            return ()
        item = kind.inner
        return tuple(_parse_value(item, v, f"{path}[{i}]", problems) for i, v in enumerate(value)
                     if not blank_json(v))
    if name == "bool":
        if not isinstance(value, bool):
            problems.append(_problem(path, N_("Expected true or false.")))
        return value
    if name == "decimal":
        return _parse_decimal(value, path, problems)
    if name == "date":
        return _parse_date(value, path, problems)
    if name == "bytes":
        return _parse_base64(value, path, problems)
    raise TypeError(f"unsupported field type {kind.inner!r} at {path}")  # a programming error, not bad input


def _parse_decimal(value: Any, path: str, problems: list[Finding]) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        problems.append(_problem(path, N_("Expected a number written as a string, such as \"12.50\".")))
        return None
    if isinstance(value, str) and not _DECIMAL_RE.match(value):
        problems.append(_problem(path, N_("\"{value}\" is not a number such as \"12.50\"."), value=value))
        return None
    try:
        number = Decimal(str(value))  # str(float) is its shortest repr: 0.1 stays 0.1
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        problems.append(_problem(path, N_("\"{value}\" is not a finite number."), value=str(value)))
        return None
    return number


def _parse_date(value: Any, path: str, problems: list[Finding]) -> dt.date | None:
    if isinstance(value, str) and _DATE_RE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(_problem(path, N_("\"{value}\" is not a date written as YYYY-MM-DD."), value=str(value)))
    return None


def _parse_base64(value: Any, path: str, problems: list[Finding]) -> bytes | None:
    if isinstance(value, str) and _BASE64_RE.match(value):
        try:
            return base64.b64decode(value, validate=False)
        except (binascii.Error, ValueError):
            pass
    problems.append(_problem(path, N_("Expected the file content as base64 text.")))
    return None


def _parse_str(value: Any, path: str, problems: list[Finding], meta: Any) -> str | None:
    if not isinstance(value, str):
        problems.append(_problem(path, N_("Expected text.")))
        return None
    rules = meta.get("rules", ())
    if not value.strip():
        return value  # blank is absent: the model turns it into the default (Blankless)
    if "choices" in meta and value not in meta["choices"]:
        problems.append(_problem(path, N_("\"{value}\" is not one of: {choices}."), rules, value=value,
                                 choices=", ".join(meta["choices"])))
    elif "pattern" in meta and not meta["pattern"].search(value):
        problems.append(_problem(path, N_("\"{value}\" does not have the expected form."), rules, value=value))
    if "max_length" in meta and len(value) > meta["max_length"]:
        problems.append(_problem(path, N_("The text is longer than {max} characters."), rules,
                                 max=meta["max_length"]))
    return value


# -- dumping --------------------------------------------------------------------------

def dump(obj: Any) -> Any:
    """The JSON form (plain dicts, lists and strings) of a dataclass instance; ``None`` fields left out."""
    if dataclasses.is_dataclass(obj):
        return {f.name: dump(v) for f in dataclasses.fields(obj) if (v := getattr(obj, f.name)) is not None and v != ()}
    if isinstance(obj, tuple):
        return [dump(v) for v in obj]
    if isinstance(obj, Decimal):
        return format(obj, "f")
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode("ascii")
    return obj
