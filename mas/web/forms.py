"""Reading form fields into typed values; a bad value becomes a field error, never a crash."""

from __future__ import annotations

from datetime import date, datetime

from mas.dates import end_of_day
from mas.services.errors import ValidationError


class FormReader:
    """Collects field errors while reading, so one submit reports every wrong field."""

    def __init__(self, form):
        self.form = form
        self.errors: dict[str, str] = {}

    def text(self, name: str, required: bool = False, label: str = "Dit veld") -> str | None:
        value = (self.form.get(name) or "").strip()
        if required and not value:
            self.errors[name] = f"{label} is verplicht."
        return value or None

    def date(self, name: str, required: bool = False, label: str = "De datum") -> date | None:
        value = (self.form.get(name) or "").strip()
        if not value:
            if required:
                self.errors[name] = f"{label} is verplicht."
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors[name] = "Geen geldige datum (jjjj-mm-dd)."
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
        if not value.isdigit():
            self.errors[name] = "Vul een geheel getal in."
            return None
        return int(value)

    def number(self, name: str) -> float | None:
        value = (self.form.get(name) or "").strip().replace(",", ".")
        if not value:
            return None
        try:
            return float(value)
        except ValueError:
            self.errors[name] = "Vul een getal in."
            return None

    def check(self) -> None:
        if self.errors:
            raise ValidationError("Niet alle velden zijn juist ingevuld.", errors=self.errors)
