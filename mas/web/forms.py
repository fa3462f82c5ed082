"""Reading form fields into typed values; a bad value becomes a field error, never a crash."""

from __future__ import annotations

from datetime import date, datetime

from mas.dates import end_of_day, local_date
from mas.services.errors import ValidationError
from mas.values import BadValue, check_text, date_bounds, parse_amount, parse_date, parse_int

MAX_FORM_TEXT = 20_000  # a text field whose column has no length of its own


def _bounds() -> tuple[date, date]:
    from flask import current_app

    from mas.web import context as web

    limits = current_app.extensions["mas"]["settings"].input
    return date_bounds(local_date(web.now()), earliest_year=limits.earliest_year, years_ahead=limits.years_ahead)


# Services name a value as they take it (a moment: due_at); a form names what a person types
# (a day: due_on). An error is shown beside the field it concerns under the form's name.
FORM_NAMES = {"due_at": "due_on", "proposed_due_at": "due_on", "guardians.0.name": "guardian_name",
              "guardians.0.relation": "guardian_relation", "guardians.0.phone": "guardian_phone",
              "guardians.0.email": "guardian_email",
              # about the step, request, deadline or suspension as a whole: the message above the form
              "status": "form", "request_id": "form", "deadline_id": "form", "suspension_id": "form"}


def field_errors(exc) -> dict[str, str]:
    """A service's refusal as errors per form field (or the form as a whole)."""
    errors = {FORM_NAMES.get(name, name): message for name, message in (exc.errors or {}).items()}
    return errors or {"form": exc.message}


class FormReader:
    """Collects field errors while reading, so one submit reports every wrong field. Every value
    is read strictly (mas.values): ASCII digits, dates in the accepted range, no NUL in text."""

    def __init__(self, form):
        self.form = form
        self.errors: dict[str, str] = {}

    def text(self, name: str, required: bool = False, label: str = "Dit veld",
             max_length: int = MAX_FORM_TEXT) -> str | None:
        value = (self.form.get(name) or "").strip()
        if required and not value:
            self.errors[name] = f"{label} is verplicht."
        try:
            check_text(value, max_length=max_length)
        except BadValue as exc:
            self.errors[name] = exc.message
            return None
        return value or None

    def date(self, name: str, required: bool = False, label: str = "De datum") -> date | None:
        value = (self.form.get(name) or "").strip()
        if not value:
            if required:
                self.errors[name] = f"{label} is verplicht."
            return None
        earliest, latest = _bounds()
        try:
            return parse_date(value, earliest=earliest, latest=latest)
        except BadValue as exc:
            self.errors[name] = exc.message
            return None

    def end_of(self, name: str, required: bool = True, label: str = "De datum") -> datetime | None:
        day = self.date(name, required, label)
        return end_of_day(day) if day else None

    def integer(self, name: str, required: bool = False, label: str = "Dit veld") -> int | None:
        value = (self.form.get(name) or "").strip()
        if not value:
            if required:
                self.errors[name] = f"{label} is verplicht."
            return None
        try:
            return parse_int(value)
        except BadValue as exc:
            self.errors[name] = exc.message
            return None

    def number(self, name: str, high: float = 1_000_000) -> float | None:
        value = (self.form.get(name) or "").strip()
        if not value:
            return None
        try:
            return parse_amount(value, high=high)
        except BadValue as exc:
            self.errors[name] = exc.message
            return None

    def check(self) -> None:
        if self.errors:
            raise ValidationError("Niet alle velden zijn juist ingevuld.", errors=self.errors)
