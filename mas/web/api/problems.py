"""Errors as `application/problem+json` (RFC 9457), with the failing fields.

One mapping from what the services raise to HTTP: 404 for what the caller may not see (never
telling it apart from what does not exist), 409 for a stale version (with the current one),
422 for what the state or the role does not allow and for invalid fields. Field names are
the API's own (`youth.bsn`, `data.route`), translated from the services' keys per operation.
"""

from __future__ import annotations

import logging

from flask import current_app, g, jsonify, request
from pydantic import ValidationError as PydanticError
from werkzeug.exceptions import HTTPException

from mas.services import errors as service_errors

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:mas:problem:"
log = logging.getLogger(__name__)

TITLES = {
    400: "Ongeldig verzoek", 401: "Niet aangemeld", 403: "Onvoldoende rechten", 404: "Niet gevonden",
    405: "Methode niet toegestaan", 409: "Conflict", 413: "Verzoek te groot", 415: "Verkeerd inhoudstype",
    422: "Niet uitvoerbaar", 500: "Interne fout",
}
# Dutch words for pydantic's error types; anything else keeps pydantic's own message.
_MESSAGES = {
    "missing": "Dit veld is verplicht.",
    "extra_forbidden": "Dit veld bestaat niet.",
    "string_too_long": "Te lang (maximaal {max_length} tekens).",
    "string_too_short": "Dit veld mag niet leeg zijn.",
    "string_pattern_mismatch": "Deze tekst bevat tekens die niet zijn toegestaan.",
    "string_type": "Hier hoort tekst.",
    "int_parsing": "Vul een geheel getal in.",
    "int_type": "Vul een geheel getal in.",
    "int_from_float": "Vul een geheel getal in.",
    "greater_than_equal": "Moet minstens {ge} zijn.",
    "less_than_equal": "Mag hoogstens {le} zijn.",
    "date_from_datetime_parsing": "Geen geldige datum (jjjj-mm-dd).",
    "date_parsing": "Geen geldige datum (jjjj-mm-dd).",
    "date_type": "Geen geldige datum (jjjj-mm-dd).",
    "bool_parsing": "Hier hoort true of false.",
    "literal_error": "Kies een van: {expected}.",
    "union_tag_invalid": "Onbekende overgang; kies een van: {expected_tags}.",
    "union_tag_not_found": "Noem de overgang (name).",
    "finite_number": "Vul een eindig getal in.",
    "float_parsing": "Vul een getal in.",
    "too_long": "Te veel items (maximaal {max_length}).",
    "model_type": "Hier hoort een object.",
    "dict_type": "Hier hoort een object.",
    "list_type": "Hier hoort een lijst.",
}


def problem(status: int, detail: str | None = None, *, slug: str | None = None, title: str | None = None,
            errors: list[dict] | None = None, headers: dict | None = None, **extra):
    body = {"type": TYPE_BASE + (slug or str(status)), "title": title or TITLES.get(status, "Fout"),
            "status": status, "detail": detail, "instance": request.path}
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = MEDIA_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_error(field: str, detail: str) -> dict:
    pointer = "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in field.split(".")) if field else "#"
    return {"field": field, "pointer": pointer, "detail": detail}


def pydantic_errors(exc: PydanticError, prefix: str = "", tags: frozenset[str] = frozenset()) -> list[dict]:
    found = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]]
        if loc and loc[0] in tags:  # a discriminated union names its variant first
            loc = loc[1:]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = ["name"]
        template = _MESSAGES.get(err["type"])
        context = {k: str(v).replace(" or ", " of ") for k, v in (err.get("ctx") or {}).items()}
        try:
            message = template.format(**context) if template else err["msg"]
        except (KeyError, IndexError):
            message = err["msg"]
        found.append(field_error(".".join(filter(None, [prefix, *loc])), message))
    return found


def _api_field(name: str) -> str:
    operation = g.get("api_operation")
    if operation is None:
        return name
    from mas.web import context as web

    return operation.resolve(operation.fields, web.ctx().workflow).get(name, name)


def service_problem(exc: service_errors.ServiceError):
    errors = [field_error(_api_field(name), message) for name, message in exc.errors.items()]
    if isinstance(exc, service_errors.NotFound):
        log_refusal()
        return problem(404, exc.message, slug="not-found")
    if isinstance(exc, service_errors.Conflict):
        return problem(409, exc.message, slug="stale-version", current_version=exc.current_version)
    slug = {service_errors.Forbidden: "not-allowed", service_errors.InvalidTransition: "invalid-transition",
            service_errors.CaseClosed: "case-closed", service_errors.GuardDataError: "invalid-fields"}.get(
        type(exc), "invalid-fields")
    return problem(422, exc.message, slug=slug, errors=errors or None)


def log_refusal() -> None:
    """A refused request of a known caller is in the access log, with the case if the path names one."""
    user = g.get("api_user")
    if user is None:
        return
    from mas.services.audit import log_denied
    from mas.web import context as web

    with web.db().begin() as conn:
        log_denied(conn, user.actor, web.now(), path=request.path, method=request.method,
                   reference=(request.view_args or {}).get("reference"))


def register_handlers(bp) -> None:
    @bp.errorhandler(service_errors.ServiceError)
    def _service(exc):
        return service_problem(exc)

    @bp.errorhandler(HTTPException)
    def _http(exc):
        if exc.code == 404:
            log_refusal()
        return problem(exc.code or 500, None, slug=str(exc.code))

    @bp.errorhandler(Exception)
    def _unexpected(exc):
        if current_app.testing or current_app.debug:
            log.exception("API-fout")
        else:
            log.error("API-fout: %s", type(exc).__name__)  # no personal data in the logs
        return problem(500, "Er ging iets mis aan onze kant; er is niets gewijzigd.", slug="internal")
