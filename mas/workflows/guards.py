"""Check the data a transition's guard needs, field by field, before anything is changed.

Values may arrive typed (API, CLI, tests) or as form strings (browser); both are cleaned to
the same Python values. Errors are Dutch and keyed by field, so a form can show them beside
the field and keep what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from mas.workflows.definition import GuardField, Transition

MAX_TEXT = 20_000


def _clean_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError("Geen geldige datum (jjjj-mm-dd).") from None


def _clean_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("Geen geheel getal.")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError("Geen geheel getal.") from None
    if number < 0:
        raise ValueError("Mag niet negatief zijn.")
    return number


def _clean(field: GuardField, value: Any) -> Any:
    if field.kind == "text":
        text = str(value).strip()
        if len(text) > MAX_TEXT:
            raise ValueError(f"Te lang (maximaal {MAX_TEXT} tekens).")
        return text
    if field.kind == "choice":
        key = str(value).strip()
        if key not in (field.choices or {}):
            raise ValueError("Kies een van de mogelijkheden.")
        return key
    if field.kind == "date":
        return _clean_date(value)
    if field.kind in ("int", "organisation"):
        return _clean_int(value)
    raise ValueError(f"onbekend veldtype {field.kind}")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_guard_data(transition: Transition, data: Mapping[str, Any] | None, reason: str | None):
    """Return (cleaned data, errors per field). Unknown keys are ignored, never stored."""
    data = data or {}
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in transition.fields:
        value = data.get(field.name)
        if _blank(value):
            if field.required:
                errors[field.name] = f"{field.label} is verplicht."
            continue
        try:
            cleaned[field.name] = _clean(field, value)
        except ValueError as exc:
            errors[field.name] = str(exc)
    if transition.needs_reason and _blank(reason):
        errors["reason"] = "Geef een reden op."
    return cleaned, errors
