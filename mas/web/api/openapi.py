"""Operations of the JSON API and the OpenAPI 3.1 document generated from them.

Each view is declared once with `operation(...)`: its path, the roles it serves, its scope
and the pydantic models of its path, query, body and answers. The same declaration routes
the request, parses it (path → 404, query and body → 422 with the failing fields, bad JSON →
400), serialises the answer, remembers a POST's Idempotency-Key, and is one entry of the
document. OpenAPI 3.1 speaks JSON Schema 2020-12, which is what pydantic writes, so the
document is pydantic's own schemas assembled under `paths` and `components`: no second
description to keep in step.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import g, jsonify, request
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticError

from mas.services import idempotency
from mas.web import context as web
from mas.web.api import problems
from mas.web.security import roles as declare_roles
from mas.workflows import Workflow

REF = "#/components/schemas/{model}"
IDEMPOTENCY_HEADER = "Idempotency-Key"
ERROR_TEXT = {
    400: "Geen geldige JSON.", 401: "Geen geldig token (ontbreekt, verlopen of ingetrokken).",
    403: "Het token heeft deze scope niet (read of write).",
    404: "Bestaat niet, of u mag het niet zien.", 409: "Intussen gewijzigd: de huidige versie staat erbij.",
    413: "Het verzoek is groter dan de grens.", 415: "Stuur application/json.",
    422: "Velden, fase of rol laten dit niet toe; de velden staan erbij.",
}


@dataclass
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    description: str
    tag: str
    roles: tuple
    scope: str
    status: int
    response: Any
    path: dict[str, Any] = field(default_factory=dict)
    query: Any = None  # a model, or a function of the workflow giving one
    body: Any = None
    errors: tuple[int, ...] = ()
    fields: dict[str, str] = field(default_factory=dict)  # a service's field name → the API's

    @property
    def openapi_path(self) -> str:
        return self.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")

    def resolve(self, part: Any, workflow: Workflow) -> Any:
        return part(workflow) if callable(part) and not isinstance(part, type) else part


OPERATIONS: list[Operation] = []


def _tags_of(annotation: Any) -> frozenset[str]:
    """The variant names of a discriminated union (they lead a validation error's location)."""
    args = typing.get_args(annotation)
    union = args[0] if args else None
    found = set()
    for variant in typing.get_args(union) or ():
        name = getattr(variant, "model_fields", {}).get("name")
        found |= set(typing.get_args(name.annotation)) if name is not None else set()
    return frozenset(found)


def _adapter(annotation: Any) -> TypeAdapter:
    cache = _adapter.__dict__.setdefault("cache", {})
    key = id(annotation)
    if key not in cache:
        cache[key] = (TypeAdapter(annotation), annotation)
    return cache[key][0]


def _parse_path(op: Operation, values: dict) -> dict:
    parsed = {}
    for name, annotation in op.path.items():
        try:
            parsed[name] = _adapter(annotation).validate_python(values[name])
        except PydanticError:
            raise problems.service_errors.NotFound("Niet gevonden.") from None
    return parsed


def _parse_query(op: Operation, workflow: Workflow):
    model = op.resolve(op.query, workflow)
    values = {key: request.args.get(key) for key in request.args}
    try:
        return model.model_validate(values)
    except PydanticError as exc:
        return problems.problem(422, "Niet alle parameters zijn juist.", slug="invalid-fields",
                                errors=problems.pydantic_errors(exc))


def _parse_body(op: Operation, workflow: Workflow, raw: bytes):
    annotation = op.resolve(op.body, workflow)
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        return problems.problem(415, "Stuur de body als application/json.", slug="unsupported-media-type")
    try:
        return _adapter(annotation).validate_json(raw or b"null")
    except PydanticError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return problems.problem(400, "De body is geen geldige JSON.", slug="invalid-json")
        return problems.problem(422, "Niet alle velden zijn juist.", slug="invalid-fields",
                                errors=problems.pydantic_errors(exc, tags=_tags_of(annotation)))


def _answer(status: int, payload: Any, op: Operation):
    body = _adapter(op.response).dump_python(payload, mode="json") if op.response is not None else None
    response = jsonify(body)
    response.status_code = status
    return response, body


def _post(op: Operation, view: Callable, arguments: dict, raw: bytes):
    """One transaction: the Idempotency-Key's stored answer, or the change and its answer."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    actor = web.actor()
    with web.db().begin() as conn:
        if key is not None:
            seen = idempotency.fingerprint(request.method, request.path, raw)
            stored = idempotency.claim(conn, actor, key, seen, web.now())
            if stored is not None:
                response = jsonify(stored.body)
                response.status_code = stored.status_code
                response.headers["Idempotent-Replayed"] = "true"
                return response
        response, body = _answer(op.status, view(conn, **arguments), op)
        if key is not None:
            idempotency.store(conn, actor, key, op.status, body)
    return response


def operation(bp, method: str, rule: str, *, summary: str, roles: tuple, response: Any, status: int = 200,
              tag: str, path: dict | None = None, query: Any = None, body: Any = None, errors: tuple[int, ...] = (),
              fields: dict | None = None, description: str = "") -> Callable:
    """Declare, route and document one operation. A POST's view gets the transaction first."""

    def decorate(view: Callable) -> Callable:
        op = Operation(method=method, rule=rule, endpoint=f"{bp.name}.{view.__name__}", summary=summary,
                       description=description or (view.__doc__ or "").strip(), tag=tag, roles=roles,
                       scope="read" if method == "GET" else "write", status=status, response=response,
                       path=path or {}, query=query, body=body, errors=errors, fields=fields or {})
        OPERATIONS.append(op)

        @declare_roles(*roles)
        def handle(**values):
            g.api_operation = op
            workflow = web.ctx().workflow
            arguments = _parse_path(op, values)
            if op.query is not None:
                parsed = _parse_query(op, workflow)
                if not isinstance(parsed, BaseModel):
                    return parsed
                arguments["query"] = parsed
            if method == "GET":
                return _answer(op.status, view(**arguments), op)[0]
            raw = request.get_data(cache=True)
            if op.body is not None:
                parsed = _parse_body(op, workflow, raw)
                if hasattr(parsed, "status_code") and hasattr(parsed, "mimetype"):
                    return parsed
                arguments["body"] = parsed
            return _post(op, view, arguments, raw)

        handle.__name__ = view.__name__
        handle.__doc__ = view.__doc__
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handle, methods=[method])
        return view

    return decorate


# --- The document -------------------------------------------------------------------------------

def _problem_response(status: int, ref: str) -> dict:
    answer = {"description": ERROR_TEXT.get(status, problems.TITLES.get(status, "Fout")),
              "content": {problems.MEDIA_TYPE: {"schema": {"$ref": ref}}}}
    if status == 401:
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"},
                                                  "description": "Bearer, met de reden."}}
    return answer


def _statuses(op: Operation) -> list[int]:
    common = [401, 403, 404, 422] if op.method == "GET" else [400, 401, 403, 404, 409, 413, 415, 422]
    return sorted(set(common) | set(op.errors))


def document(workflow: Workflow, *, title: str, version: str = "1") -> dict:
    """The OpenAPI 3.1 document of every declared operation, from the models themselves."""
    inputs: list = [("Problem", "serialization", _adapter(problems_model()))]
    for op in OPERATIONS:
        if op.body is not None:
            inputs.append((("body", op.endpoint), "validation", _adapter(op.resolve(op.body, workflow))))
        if op.query is not None:
            inputs.append((("query", op.endpoint), "validation", _adapter(op.resolve(op.query, workflow))))
        inputs.append((("response", op.endpoint), "serialization", _adapter(op.response)))
    schemas, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF)
    components = dict(definitions.get("$defs", {}))
    problem_ref = schemas[("Problem", "serialization")]["$ref"]
    paths: dict = {}
    for op in OPERATIONS:
        parameters = [{"name": name, "in": "path", "required": True, "schema": _adapter(annotation).json_schema()}
                      for name, annotation in op.path.items()]
        if op.query is not None:
            query = schemas[(("query", op.endpoint), "validation")]
            query = components.get(query["$ref"].rsplit("/", 1)[-1], query) if "$ref" in query else query
            required = set(query.get("required", ()))
            for name, prop in query.get("properties", {}).items():
                prop = dict(prop)
                described = prop.pop("description", None)
                prop.pop("title", None)
                parameters.append({"name": name, "in": "query", "required": name in required, "schema": prop,
                                   **({"description": described} if described else {})})
        entry: dict = {"operationId": op.endpoint.split(".", 1)[-1], "summary": op.summary, "tags": [op.tag],
                       "description": op.description + f"\n\nRollen: {', '.join(op.roles)}. Scope: `{op.scope}`.",
                       "security": [{"bearerAuth": []}]}
        if op.method == "POST":
            parameters.append({"name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
                               "description": "Een herhaald verzoek met dezelfde sleutel maakt niets nieuws en krijgt "
                                              "hetzelfde antwoord.",
                               "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH,
                                          "pattern": "^[\\x21-\\x7e]+$"}})
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": schemas[(("body", op.endpoint), "validation")]}}}
        responses = {str(op.status): {"description": op.summary, "content": {"application/json": {
            "schema": schemas[(("response", op.endpoint), "serialization")]}}}}
        responses.update({str(s): _problem_response(s, problem_ref) for s in _statuses(op)})
        entry["responses"] = responses
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": DESCRIPTION},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer", "description": "Een API-token (`mas_…`): `mas token create` of de "
                                                              "beheerpagina API-tokens."}}},
    }


def problems_model():
    from mas.web.api.schemas import Problem

    return Problem


TAGS = (
    ("Signalen", "Verzuimmeldingen en andere signalen insturen."),
    ("Zaken", "Zaken van het eigen team lezen en verder brengen."),
    ("Stappen", "Stappen van de eigen organisatie afronden of uitstel vragen."),
    ("Account", "Wie dit token is."),
)
DESCRIPTION = """De JSON-API van mas: dezelfde regels, rollen en klokken als de schermen.

Elk verzoek draagt een token: `Authorization: Bearer mas_…`. Een token hoort bij één account
(een persoon of de koppeling van een organisatie) en heeft scopes: `read` voor GET, `write`
voor POST. Fouten zijn `application/problem+json` (RFC 9457) met de velden die niet goed zijn.
Een POST met een `Idempotency-Key` maakt bij herhalen niets nieuws."""
