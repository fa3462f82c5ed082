"""Check the data a transition's guard needs, field by field, before anything is changed.

Values may arrive typed (API, CLI, tests) or as form strings (browser); both are cleaned to
the same Python values. Errors are Dutch and keyed by field, so a form can show them beside
the field and keep what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from mas.values import check_text, parse_date, parse_int
from mas.workflows.definition import GuardField, Transition

MAX_TEXT = 20_000
MAX_REASON = 5000  # the same as every other reason field (mas.services.inputs.FIELD_LIMITS)


def _clean(field: GuardField, value: Any, bounds: tuple[date, date] | None) -> Any:
    if field.kind == "text":
        return check_text(str(value).strip(), max_length=MAX_TEXT)
    if field.kind == "choice":
        key = str(value).strip()
        if key not in (field.choices or {}):
            raise ValueError("Kies een van de mogelijkheden.")
        return key
    if field.kind == "date":
        return parse_date(value, earliest=bounds[0] if bounds else None, latest=bounds[1] if bounds else None)
    if field.kind in ("int", "organisation"):
        number = parse_int(value)
        low, high = field.min_value, field.max_value
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError(f"Kies een getal van {low} tot en met {high}.")
        return number
    raise ValueError(f"onbekend veldtype {field.kind}")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_guard_data(transition: Transition, data: Mapping[str, Any] | None, reason: str | None,
                     bounds: tuple[date, date] | None = None):
    """Return (cleaned data, errors per field). Unknown keys are ignored, never stored.
    `bounds`: the dates accepted (mas.values.date_bounds)."""
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
            cleaned[field.name] = _clean(field, value, bounds)
        except ValueError as exc:
            errors[field.name] = str(exc)
    for field in transition.fields:
        if field.only_with and field.name in cleaned:
            other, value = field.only_with
            if cleaned.get(other) != value:
                other_field = next((f for f in transition.fields if f.name == other), None)
                shown = (other_field.choices or {}).get(value, value) if other_field else value
                errors[field.name] = f"Vul dit alleen in bij {other_field.label.lower() if other_field else other} '{shown}'."
    if transition.needs_reason and _blank(reason):
        errors["reason"] = "Geef een reden op."
    elif reason:
        try:
            check_text(str(reason), max_length=MAX_REASON)
        except ValueError as exc:
            errors["reason"] = str(exc)
    return cleaned, errors
