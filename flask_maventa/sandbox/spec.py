"""A small Swagger 2.0 validator for Maventa's own spec: one place for the rules the sandbox enforces
on every request it receives and the client's tests enforce on every request the client sends.

Requests are given as a werkzeug ``Request`` (Flask's request is one; ``request_from_httpx`` turns an
``httpx.Request`` into one), so query strings, urlencoded and multipart bodies are parsed by the same
code on both sides. Problems come back as a list of sentences in the style of Maventa's ``details``.

Stricter than the spec in one way on purpose: JSON bodies may not carry properties the spec does not
name (``additionalProperties: false`` is added), so an invented field fails. Looser in one: array
parameters may be sent as ``name[]`` or a repeated ``name`` (Maventa runs on Rack/Grape). Every
``required`` list is enforced as the swagger has it (e.g. a settings PATCH carries ``details``,
``address`` and ``invoice_notifications`` whatever it changes).
Responses may carry ``null`` for properties that are not required (Maventa does, e.g. ``destination``).
"""
from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import TypedDict

import httpx
import jsonschema
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from .bodies import JSONObject, JSONValue

__all__ = ["SPEC_FILE", "Operation", "Spec", "load_spec", "request_from_httpx"]

SPEC_FILE = "autoxchange-swagger-0.85.550.json"
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# The parts of a Swagger 2.0 document this module reads (a parameter's ``items`` has a parameter's rules).
Parameter = TypedDict("Parameter", {
    "name": str, "in": str, "required": bool, "type": str, "items": "Parameter", "enum": list[JSONValue],
    "maxLength": int, "minLength": int, "format": str, "schema": JSONObject}, total=False)


class ResponseObject(TypedDict, total=False):
    description: str
    schema: JSONObject


class OperationObject(TypedDict, total=False):
    parameters: list[Parameter]
    consumes: list[str]
    security: list[dict[str, list[str]]]
    responses: dict[str, ResponseObject]


class SecurityScheme(TypedDict, total=False):
    type: str
    scopes: dict[str, str]


class SwaggerDocument(TypedDict, total=False):
    paths: dict[str, dict[str, OperationObject]]
    consumes: list[str]
    definitions: dict[str, JSONObject]
    securityDefinitions: dict[str, SecurityScheme]


@dataclass
class Operation:
    method: str
    template: str
    parameters: list[Parameter]
    consumes: list[str]
    scopes: list[str]          # any one of them grants access; empty: no token needed
    responses: dict[str, ResponseObject]
    pattern: re.Pattern[str] = field(repr=False)

    @property
    def authenticated(self) -> bool:
        return bool(self.scopes)


@functools.lru_cache(maxsize=1)
def load_spec() -> Spec:
    text = resources.files(__name__.rpartition(".")[0]).joinpath(SPEC_FILE).read_text(encoding="utf-8")
    return Spec(json.loads(text))


class Spec:
    def __init__(self, document: SwaggerDocument) -> None:
        self.document = document
        self.operations: list[Operation] = []
        for template, item in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")
            for method, op in item.items():
                scopes = [s for requirement in op.get("security", []) for s in requirement.get("company_auth", [])]
                self.operations.append(Operation(
                    method=method.upper(), template=template, parameters=op.get("parameters", []),
                    consumes=op.get("consumes", document.get("consumes", [])), scopes=scopes,
                    responses=op.get("responses", {}), pattern=pattern))
        # Literal paths before templated ones: /v1/invoices/search must not match /v1/invoices/{id}.
        self.operations.sort(key=lambda o: ("{" in o.template, o.template))
        definitions = document.get("definitions", {})
        self._strict: JSONObject = {"definitions": {k: _strict(v) for k, v in definitions.items()}}
        self._nullable: JSONObject = {"definitions": {k: _nullable(_strict(v)) for k, v in definitions.items()}}

    # -- lookup ----------------------------------------------------------------------------------

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.operations:
            if op.method == method.upper():
                match = op.pattern.match(path)
                if match:
                    return op, match.groupdict()
        return None

    def path_exists(self, path: str) -> bool:
        return any(op.pattern.match(path) for op in self.operations)

    def enum(self, method: str, template: str, name: str) -> list[JSONValue]:
        for op in self.operations:
            if op.method == method and op.template == template:
                for p in op.parameters:
                    if p["name"] == name:
                        return p.get("enum") or p.get("items", {}).get("enum") or []
        raise KeyError(f"{method} {template} has no parameter {name}")

    # -- requests --------------------------------------------------------------------------------

    def validate_request(self, request: Request, *, path: str | None = None) -> list[str]:
        """Problems with ``request`` against its operation; raises LookupError for an unknown path."""
        path = path or request.path
        found = self.find(request.method, path)
        if found is None:
            raise LookupError(f"{request.method} {path} is not in Maventa's API")
        op, _ = found
        problems: list[str] = []
        locations = {p["in"] for p in op.parameters}
        mimetype = request.mimetype
        form: list[tuple[str, object]] = []  # fields, then files, as a MultiDict of both would list them
        if "formData" in locations:
            if op.consumes and mimetype not in op.consumes:
                problems.append(f"content type must be {' or '.join(op.consumes)}, not {mimetype or 'none'}")
            form += request.form.items(multi=True)
            form += request.files.items(multi=True)
        elif mimetype in ("multipart/form-data", "application/x-www-form-urlencoded") and (
                request.form or request.files):
            problems.append(f"{request.method} {op.template} takes no form fields")
        problems += self._check_parameters(op, "query", request.args.items(multi=True))
        problems += self._check_parameters(op, "formData", form)
        body_params = [p for p in op.parameters if p["in"] == "body"]
        data = request.get_data(cache=True)
        if body_params:
            problems += self._check_body(op, body_params[0], request, data)
        elif data and "formData" not in locations:
            problems.append(f"{request.method} {op.template} takes no request body")
        return problems

    def _check_parameters(self, op: Operation, location: str, given: Iterable[tuple[str, object]]) -> list[str]:
        problems: list[str] = []
        declared = {p["name"]: p for p in op.parameters if p["in"] == location}
        values: dict[str, list[object]] = {}
        for raw_name, value in given:
            name = raw_name[:-2] if raw_name.endswith("[]") else raw_name
            param = declared.get(name)
            if param is None or (raw_name.endswith("[]") and param.get("type") != "array"):
                problems.append(f"{raw_name} does not exist")
                continue
            values.setdefault(name, []).append(value)
        for name, param in declared.items():
            if name not in values:
                if param.get("required"):
                    problems.append(f"{name} is missing")
                continue
            problems += _check_values(param, values[name])
        return problems

    def _check_body(self, op: Operation, param: Parameter, request: Request, data: bytes) -> list[str]:
        if not data:
            return ["request body is missing"] if param.get("required") else []
        if request.mimetype != "application/json":
            return [f"content type must be application/json, not {request.mimetype or 'none'}"]
        try:
            body: JSONValue = json.loads(data)
        except ValueError:
            return ["request body is not valid JSON"]
        schema = copy.deepcopy(param["schema"])
        return self._schema_problems(schema, body, self._strict)

    # -- responses -------------------------------------------------------------------------------

    def validate_response(self, method: str, path: str, status: int, body: JSONValue) -> list[str]:
        """Problems with a JSON response (``body`` decoded, or None for an empty one)."""
        found = self.find(method, path)
        if found is None:
            return [f"{method} {path} is not in Maventa's API"]
        op, _ = found
        documented = op.responses.get(str(status))
        if documented is None:
            if status < 400:
                return [f"{method} {op.template} documents only {', '.join(op.responses)}, not {status}"]
            documented = {"schema": {"$ref": "#/definitions/API_Entities_Error"}}  # Maventa's errors: one shape
        schema = documented.get("schema")
        if schema is None:
            return [] if body in (None, b"", "") else [f"status {status} has no body in the spec"]
        return self._schema_problems(schema, body, self._nullable)

    def _schema_problems(self, schema: JSONObject, instance: JSONValue, root: JSONObject) -> list[str]:
        validator = jsonschema.Draft4Validator({**root, **schema})
        return [_describe(e) for e in sorted(validator.iter_errors(instance), key=lambda e: list(e.path))]


def _check_values(param: Parameter, values: list[object]) -> list[str]:
    name, kind = param["name"], param.get("type")
    if kind != "array" and len(values) > 1:
        return [f"{name} is given more than once"]
    if kind == "array":
        items = param.get("items", {})
        return [p for v in values for p in _check_scalar(f"{name}[]", items.get("type", "string"), items, v)]
    return _check_scalar(name, kind, param, values[0])


def _check_scalar(name: str, kind: str | None, rules: Parameter, value: object) -> list[str]:
    if kind == "file":
        filename = getattr(value, "filename", None)
        return [] if filename else [f"{name} must be a file upload with a filename"]
    if hasattr(value, "filename"):
        return [f"{name} must be a plain field, not a file"]
    text = str(value)
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", text):
            return [f"{name} is invalid: {text!r} is not an integer"]
        typed: int | float | bool | str = int(text)
    elif kind == "number":
        try:
            typed = float(text)
        except ValueError:
            return [f"{name} is invalid: {text!r} is not a number"]
    elif kind == "boolean":
        if text not in ("true", "false"):
            return [f"{name} is invalid: {text!r} is not true or false"]
        typed = text == "true"
    else:
        typed = text
        if "maxLength" in rules and len(text) > rules["maxLength"]:
            return [f"{name} is longer than {rules['maxLength']} characters"]
        if "minLength" in rules and len(text) < rules["minLength"]:
            return [f"{name} is shorter than {rules['minLength']} characters"]
        if rules.get("format") == "date-time" and not _DATE_TIME.match(text):
            return [f"{name} is invalid: {text!r} is not an ISO-8601 timestamp"]
        if rules.get("format") == "date" and not _DATE.match(text):
            return [f"{name} is invalid: {text!r} is not a date (YYYY-MM-DD)"]
    if rules.get("enum") and typed not in rules["enum"]:
        return [f"{name} does not have a valid value ({text!r} is not one of "
                f"{', '.join(str(e) for e in rules['enum'])})"]
    return []


def _strict(schema: JSONValue) -> JSONValue:
    """Deep copy with ``additionalProperties: false`` on every object that lists its properties."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _nullable(schema: JSONValue) -> JSONValue:
    """Let every non-required property be ``null`` as well (Grape entities expose nil as null)."""
    if isinstance(schema, list):
        return [_nullable(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _nullable(v) for k, v in schema.items()}
    properties, required = out.get("properties"), out.get("required", [])
    if isinstance(properties, dict):
        out["properties"] = {name: (prop if isinstance(required, list) and name in required else _or_null(prop))
                             for name, prop in properties.items()}
    return out


def _or_null(prop: JSONValue) -> JSONValue:
    if not isinstance(prop, dict):
        return prop
    if "$ref" in prop:
        return {"anyOf": [{"$ref": prop["$ref"]}, {"type": "null"}]}
    out = dict(prop)
    kind, enum = out.get("type"), out.get("enum")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif isinstance(kind, list):
        out["type"] = [*kind, "null"]
    if isinstance(enum, list) and None not in enum:
        out["enum"] = [*enum, None]
    return out


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in error.path)
    return f"{where}: {error.message}" if where else error.message


def request_from_httpx(request: httpx.Request) -> Request:
    """A werkzeug Request with the same method, path, query, headers and body as an httpx.Request."""
    body = request.read()
    builder = EnvironBuilder(
        method=request.method, path=request.url.path, query_string=request.url.query.decode(),
        headers=[(k, v) for k, v in request.headers.items() if k.lower() != "content-length"],
        data=body, content_type=request.headers.get("content-type"))
    try:
        return Request(builder.get_environ())
    finally:
        builder.close()


def problems_for(requests: Iterable[httpx.Request]) -> dict[str, list[str]]:
    """Spec problems per ``METHOD path`` for a batch of httpx requests (empty dict: all valid)."""
    spec = load_spec()
    found: dict[str, list[str]] = {}
    for request in requests:
        with request_from_httpx(request) as parsed:  # closes the uploaded files it parsed
            issues = spec.validate_request(parsed)
        if issues:
            found.setdefault(f"{request.method} {request.url.path}", []).extend(issues)
    return found
