"""What every class of the invoice model is: a frozen dataclass (:func:`model`) whose fields may carry
JSON constraints (:func:`constrained`), and whose blank values are absent (:class:`Blankless`).

Blank is absent: :class:`Blankless` is the one normalisation step of the model. A text that
is empty or only whitespace, a ``null``, and an object whose fields are all blank count as
not given, whether the value comes from JSON or from Python; the pre-flight checks and the
UBL writer therefore never see a value that would write an empty element. The JSON form
(:mod:`.jsonform`) and its schema (:mod:`.schema`) read the same fields and constraints.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from functools import cache
from typing import Any, TypeVar

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry (control characters, lone surrogates): dropped from all text."""
_T = TypeVar("_T")

# The forms the invoice's fields share (their patterns go into the JSON Schema as they are).
COUNTRY = r"^[A-Z0-9]{2}$"
CURRENCY = r"^[A-Z]{3}$"
SCHEME = r"^[0-9A-Z]{2,4}$"
VAT_CATEGORIES = ("S", "Z", "E", "AE", "K", "G", "O", "L", "M")


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


def field_default(f: dataclasses.Field[Any]) -> Any:
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
                default = field_default(f)
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
def type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False
