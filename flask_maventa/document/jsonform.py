"""The JSON form of frozen dataclasses: parse with every problem reported at once, dump, and
derive the JSON Schema from the same type hints and constraints.

Only the types the invoice model uses are supported: ``str``, ``bool``, ``Decimal``
(JSON string such as ``"12.50"`` or a JSON number), ``datetime.date`` (``"YYYY-MM-DD"``),
``bytes`` (base64 string), nested dataclasses, ``tuple[X, ...]`` (JSON array) and ``X | None``.
Constraints sit in the field's metadata (see :func:`constrained`), so the parser and the
schema never disagree (the parser is lenient in one way only: an object holding only blanks
is read as absent, as Blankless would make it).

Blank is absent: :class:`Blankless` is the one normalisation step of the model. A text that
is empty or only whitespace, a ``null``, and an object whose fields are all blank count as
not given, whether the value comes from JSON or from Python; the pre-flight checks and the
UBL writer therefore never see a value that would write an empty element.
"""

from __future__ import annotations

import ast
import base64
import binascii
import dataclasses
import datetime as dt
import inspect
import itertools
import re
import textwrap
import types
import typing
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, TypeVar, cast

from .findings import DocumentError, Finding
from .markers import N_

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)
_DATE_RE = re.compile(DATE_PATTERN)
_BASE64_RE = re.compile(r"^[A-Za-z0-9+/\s]*={0,2}\s*$")
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry (control characters, lone surrogates): dropped from all text."""
_T = TypeVar("_T")


@typing.overload
def constrained(*, choices: tuple[str, ...] | None = None, pattern: str | None = None,
                max_length: int | None = None, rules: tuple[str, ...] = (), multiline: bool = False) -> Any: ...


@typing.overload
def constrained(*, default: _T, choices: tuple[str, ...] | None = None, pattern: str | None = None,
                max_length: int | None = None, rules: tuple[str, ...] = (), multiline: bool = False) -> _T: ...


def constrained(*, default: Any = dataclasses.MISSING, choices: tuple[str, ...] | None = None,
                pattern: str | None = None, max_length: int | None = None, rules: tuple[str, ...] = (),
                multiline: bool = False) -> Any:
    """A dataclass field with JSON constraints (checked by the parser, written into the schema).

    ``rules``: the official rule ids a value breaking the constraint would break in the UBL.
    ``multiline``: free text whose line breaks matter (e.g. German Skonto lines in the payment
    terms): only spaces and tabs are stripped from its ends.
    """
    meta = {k: v for k, v in (("choices", choices), ("pattern", pattern), ("max_length", max_length),
                              ("rules", rules or None), ("multiline", multiline or None)) if v is not None}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _problem(path: str, message: str, rules: tuple[str, ...] = (), **params: Any) -> Finding:
    return Finding("JSON_INVALID", "error", path, message,
                   N_("Correct the invoice data sent by the ERP (field {path})."), {"path": path, **params},
                   rules=tuple(rules))


# -- blank is absent -------------------------------------------------------------------

def is_blank(value: Any) -> bool:
    """``None``, ``""``/whitespace, ``b""``, ``()``, or a dataclass whose every field is blank
    (booleans do not count: ``{"is_charge": true}`` alone describes nothing)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    names = _dataclass_field_names(type(value))
    if names is None:
        return bool(value == () or value == b"")
    for name in names:  # a plain loop: all() over a generator costs more, and this runs for every object
        v = getattr(value, name)
        if not (isinstance(v, bool) or is_blank(v)):
            return False
    return True


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _dataclass_field_names(cls: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type (None for any other type), looked up once per type."""
    try:
        return _FIELD_NAMES[cls]
    except KeyError:
        names = tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else None
        _FIELD_NAMES[cls] = names
        return names


def blank_json(value: Any) -> bool:
    """The JSON form of "absent": null, blank text, and a list or object holding only blanks."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    if isinstance(value, dict):
        return all(blank_json(v) for v in value.values())
    if isinstance(value, list):
        return all(blank_json(v) for v in value)
    return False


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


@typing.dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, constrained))
def model(cls: type[_T]) -> type[_T]:
    """``@dataclass(frozen=True)`` for the document's models; a type checker reads their
    ``constrained(...)`` as fields, as it reads ``dataclasses.field`` (PEP 681)."""
    return dataclasses.dataclass(frozen=True)(cls)


class Blankless:
    """Mixin for the frozen model dataclasses: the one place where blank values become absent.

    Text loses the characters XML cannot carry and is stripped; a blank text, ``None`` or an all-blank
    object becomes the field's default (``None`` for optional fields, e.g. ``"C62"`` for a unit); a
    required text stays ``""`` so the pre-flight check reports it; blank items are dropped from lists.
    """

    def __post_init__(self) -> None:
        values = vars(self)  # a frozen dataclass keeps its fields here: normalised values go straight in
        for name, multiline, f in _blankless_fields(type(self)):
            original = value = values[name]
            if value is None:
                if f.default is None:
                    continue  # the usual absent optional field: None is already its default
                blank = True
            elif isinstance(value, str):
                value = without_not_xml(value)
                stripped = value.strip()
                value = value.strip(" \t") if multiline and stripped else stripped
                blank = not value
            else:
                if isinstance(value, tuple) and (value or type(value) is not tuple):  # () stays ()
                    value = tuple(v for v in value if not is_blank(v))
                blank = not isinstance(value, bool) and is_blank(value)
            if blank:
                default = _default(f)
                value = ("" if isinstance(value, str) else value) if default is dataclasses.MISSING else default
            if value is not original:
                values[name] = value


def without_not_xml(text: str) -> str:
    """``text`` without the characters XML cannot carry (:data:`NOT_XML`).

    ``isprintable()`` is false for each of them (control characters, surrogates, U+FFFE/U+FFFF) and
    costs a fifth of the substitution, which the usual text therefore skips.
    """
    return text if text.isprintable() else NOT_XML.sub("", text)


_BLANKLESS_FIELDS: dict[type, tuple[tuple[str, bool, dataclasses.Field[Any]], ...]] = {}


def _blankless_fields(cls: type) -> tuple[tuple[str, bool, dataclasses.Field[Any]], ...]:
    """``(name, multiline, field)`` of each field of a model class, worked out once per class: every
    document built runs :meth:`Blankless.__post_init__` on each of its objects."""
    try:
        return _BLANKLESS_FIELDS[cls]
    except KeyError:
        found = tuple((f.name, bool(f.metadata.get("multiline")), f) for f in dataclasses.fields(cls))
        _BLANKLESS_FIELDS[cls] = found
        return found


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


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
    tp, optional = _unwrap_optional(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _Kind("dataclass", optional, tp)
    if typing.get_origin(tp) is tuple:
        return _Kind("tuple", optional, _kind(typing.get_args(tp)[0]))
    simple = {bool: "bool", Decimal: "decimal", dt.date: "date", bytes: "bytes", str: "str"}
    return _Kind(simple.get(tp, "unsupported"), optional, tp)


@cache
def _parse_plan(cls: type) -> tuple[dict[str, Any], tuple[tuple[str, _Kind, bool, Any], ...]]:
    """A model class's fields for the parser: ``(fields by name, ((name, kind, has default, metadata), ...))``."""
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    return fields, tuple((name, _kind(hints[name]), _default(f) is not dataclasses.MISSING, _compiled(f.metadata))
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


# -- JSON Schema ----------------------------------------------------------------------

def schema(root: type, *, schema_id: str, title: str) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) for ``root``'s JSON form, with the field docstrings as descriptions."""
    defs: dict[str, Any] = {}
    top = _object_schema(root, defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_id, "title": title,
            **top, "$defs": dict(sorted(defs.items()))}


def _object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = _hints(cls)
    docs = field_docs(cls)
    props, required = {}, []
    for f in dataclasses.fields(cls):
        prop = _type_schema(hints[f.name], defs, f.metadata, absent_ok=_default(f) is not dataclasses.MISSING)
        if docs.get(f.name):
            prop = {"description": docs[f.name], **prop}
        props[f.name] = prop
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    out: dict[str, Any] = {"type": "object", "description": inspect.cleandoc(cls.__doc__ or ""),
                           "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


BLANK = {"type": "string", "pattern": r"^\s*$"}


def _type_schema(tp: Any, defs: dict[str, Any], meta: Any = None, absent_ok: bool = False) -> dict[str, Any]:
    tp, optional = _unwrap_optional(tp)
    meta = meta or {}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if tp.__name__ not in defs:
            defs[tp.__name__] = {}  # placeholder against recursion
            defs[tp.__name__] = _object_schema(tp, defs)
        out: dict[str, Any] = {"$ref": f"#/$defs/{tp.__name__}"}
    elif typing.get_origin(tp) is tuple:
        out = {"type": "array", "items": _type_schema(typing.get_args(tp)[0], defs)}
    elif tp is bool:
        out = {"type": "boolean"}
    elif tp is Decimal:
        out = {"type": ["string", "number"], "pattern": DECIMAL_PATTERN}
    elif tp is dt.date:
        out = {"type": "string", "pattern": DATE_PATTERN, "format": "date"}
    elif tp is bytes:
        out = {"type": "string", "contentEncoding": "base64"}
    elif tp is str:
        out = {"type": "string"}
        if "choices" in meta:
            out["enum"] = list(meta["choices"])
        elif "pattern" in meta:
            out["pattern"] = meta["pattern"]
        if "max_length" in meta:
            out["maxLength"] = meta["max_length"]
    else:
        raise TypeError(f"unsupported field type {tp!r}")
    # blank is absent (Blankless): text may always be blank, anything with a default may be blank or null
    alternatives = [out]
    if (tp is str or absent_ok) and out != {"type": "string"}:
        alternatives.append(BLANK)
    if optional or absent_ok:
        alternatives.append({"type": "null"})
    return out if len(alternatives) == 1 else {"anyOf": alternatives}


@cache
def field_docs(cls: type) -> dict[str, str]:
    """The attribute docstrings (the string right under each field) of a dataclass."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    node = tree.body[0]
    body = node.body if isinstance(node, ast.ClassDef) else []
    docs = {}
    for stmt, nxt in itertools.pairwise(body):
        if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[stmt.target.id] = inspect.cleandoc(nxt.value.value)
    return docs
