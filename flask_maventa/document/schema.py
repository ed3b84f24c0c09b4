"""The JSON Schema (draft 2020-12) of the JSON form, written from the same type hints, constraints and
field docstrings as the parser (:mod:`.jsonform`) reads."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import inspect
import itertools
import textwrap
import typing
from decimal import Decimal
from functools import cache
from typing import Any

from .jsonform import DATE_PATTERN, DECIMAL_PATTERN
from .model import field_default, type_hints, unwrap_optional


def schema(root: type, *, schema_id: str, title: str) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) for ``root``'s JSON form, with the field docstrings as descriptions."""
    defs: dict[str, Any] = {}
    top = _object_schema(root, defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_id, "title": title,
            **top, "$defs": dict(sorted(defs.items()))}


def _object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = type_hints(cls)
    docs = field_docs(cls)
    props, required = {}, []
    for f in dataclasses.fields(cls):
        prop = _type_schema(hints[f.name], defs, f.metadata, absent_ok=field_default(f) is not dataclasses.MISSING)
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
    tp, optional = unwrap_optional(tp)
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
