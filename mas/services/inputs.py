"""What a new signal brings in: the youth, the guardians, the melding. Validated per field."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta

from mas.bsn import bsn_problem, normalise_bsn
from mas.models import Case, ExtensionRequest, Guardian, Organisation, Signal, Step, Team, User, YouthRecord
from mas.services.errors import ValidationError
from mas.settings import InputSettings
from mas.values import BadValue, check_email, check_text, date_bounds
from mas.workflows.vocabulary import SIGNAL_KINDS, SIGNAL_SOURCES

# A reported absence counts at most four school weeks of full days (DUO's window of 4 weeks).
HOURS_IN_FOUR_WEEKS = 4 * 5 * 8
# The earliest day a clock may start on: the school calendar counts from 1970.
CLOCK_EARLIEST = date(1971, 1, 1)


def _length(model, name: str) -> int:
    return model.__table__.c[name].type.length


# Lengths of the signal's text fields: their columns' (mas.models), shown by the form as maxlength.
TEXT_LIMITS = {
    **{name: _length(YouthRecord, name) for name in ("given_name", "family_name", "bsn", "onderwijsnummer",
                                                     "municipality", "education_kind", "education_level")},
    **{name: _length(Signal, name) for name in ("reporter_name", "reporter_function", "reporter_phone",
                                                "reporter_email", "description")},
    **{f"guardian_{name}": _length(Guardian, name) for name in ("name", "relation", "phone", "email")},
}
# Every text field of every form, by the name the forms give it: the form shows it as
# maxlength, the services refuse longer text (on SQLite too, which would store anything).
# A field with a column has that column's length; the rest are kept in the journal's JSON
# data (a note, a transition's reason) or read only (a search), with the length given here.
FIELD_LIMITS = {
    **TEXT_LIMITS,
    **{name: _length(Organisation, name) for name in ("name", "contact_name", "contact_email", "escalation_name",
                                                      "escalation_email", "brin")},
    **{name: _length(Team, name) for name in ("bestuurlijk_contact_name", "bestuurlijk_contact_email")},
    "email": _length(User, "email"), "title": _length(Step, "title"),
    "completion_note": _length(Step, "completion_note"), "decision_note": _length(ExtensionRequest, "decision_note"),
    "reason": _length(ExtensionRequest, "reason"), "gesprek_report": _length(Case, "gesprek_report"),
    "text": 5000, "note": 5000, "municipalities": 2000, "q": 200,
}


def case_date_bounds(limits: InputSettings, today: date) -> tuple[date, date]:
    """The dates a case accepts (a first day, a period, a suspension, a due date): the
    configured range, and never before the school calendar's first years."""
    earliest, latest = date_bounds(today, earliest_year=limits.earliest_year, years_ahead=limits.years_ahead)
    return max(earliest, CLOCK_EARLIEST), latest


def _out_of_range(day: date | None, bounds: tuple[date, date]) -> str | None:
    if day is None or bounds[0] <= day <= bounds[1]:
        return None
    return f"Een datum tussen {bounds[0].strftime('%d-%m-%Y')} en {bounds[1].strftime('%d-%m-%Y')}."


def text_errors(values: dict[str, str | None], limits: dict[str, int], prefix: str = "") -> dict[str, str]:
    """NUL characters and texts longer than their column, per field."""
    errors = {}
    for name, value in values.items():
        if value is None:
            continue
        try:
            check_text(str(value), max_length=limits.get(name, 5000))
        except BadValue as exc:
            errors[prefix + name] = exc.message
    return errors


def check_texts(message: str, **values: str | None) -> None:
    """Refuse texts with a NUL or longer than their field (FIELD_LIMITS), keyed by field."""
    errors = text_errors(values, FIELD_LIMITS)
    if errors:
        raise ValidationError(message, errors=errors)


def email_error(value: str | None) -> str | None:
    if not (value or "").strip():
        return None
    try:
        check_email(value)
    except BadValue as exc:
        return exc.message
    return None


@dataclass(frozen=True)
class GuardianInput:
    name: str
    relation: str
    phone: str | None = None
    email: str | None = None
    has_custody: bool = True


@dataclass(frozen=True)
class YouthInput:
    given_name: str
    family_name: str
    birth_on: date
    bsn: str | None = None
    onderwijsnummer: str | None = None
    municipality: str | None = None
    school_id: int | None = None
    education_kind: str | None = None
    education_level: str | None = None
    guardians: tuple[GuardianInput, ...] = field(default_factory=tuple)

    def cleaned(self, today: date, limits: InputSettings | None = None) -> YouthInput:
        limits = limits or InputSettings()
        errors: dict[str, str] = text_errors({k: getattr(self, k) for k in (
            "given_name", "family_name", "bsn", "onderwijsnummer", "municipality", "education_kind", "education_level")},
            TEXT_LIMITS)
        if not (self.given_name or "").strip():
            errors["given_name"] = "Voornaam is verplicht."
        if not (self.family_name or "").strip():
            errors["family_name"] = "Achternaam is verplicht."
        if self.birth_on is None:
            errors["birth_on"] = "Geboortedatum is verplicht."
        elif not isinstance(self.birth_on, date) or self.birth_on >= today:
            errors["birth_on"] = "Geboortedatum moet in het verleden liggen."
        elif self.birth_on.year < limits.earliest_year:
            errors["birth_on"] = f"Een geboortedatum vóór {limits.earliest_year} kan niet kloppen."
        elif self.birth_on > today - relativedelta(years=limits.min_age):
            errors["birth_on"] = f"Deze jongere zou jonger zijn dan {limits.min_age} jaar: kijk de geboortedatum na."
        elif self.birth_on <= today - relativedelta(years=limits.max_age + 1):
            errors["birth_on"] = (f"Deze jongere zou ouder zijn dan {limits.max_age} jaar (na het einde van de RMC-leeftijd): "
                                  "kijk de geboortedatum na.")
        bsn = (self.bsn or "").strip() or None
        onderwijsnummer = (self.onderwijsnummer or "").strip() or None
        if bsn and bsn_problem(bsn):
            errors["bsn"] = bsn_problem(bsn)
        if onderwijsnummer and not (len(onderwijsnummer) == 9 and onderwijsnummer.isdigit()):
            errors["onderwijsnummer"] = "Een onderwijsnummer heeft negen cijfers."
        if not bsn and not onderwijsnummer:
            errors["bsn"] = "Vul een BSN of een onderwijsnummer in."
        for i, guardian in enumerate(self.guardians):
            if not (guardian.name or "").strip():
                errors[f"guardians.{i}.name"] = "Naam van de ouder/verzorger is verplicht."
            errors.update(text_errors({"name": guardian.name, "relation": guardian.relation, "phone": guardian.phone},
                                      {k: TEXT_LIMITS[f"guardian_{k}"] for k in ("name", "relation", "phone")},
                                      prefix=f"guardians.{i}."))
            if email_error(guardian.email):
                errors[f"guardians.{i}.email"] = email_error(guardian.email)
        if errors:
            raise ValidationError("De gegevens van de jongere zijn niet compleet of niet juist.", errors=errors)
        return YouthInput(
            given_name=self.given_name.strip(), family_name=self.family_name.strip(), birth_on=self.birth_on,
            bsn=normalise_bsn(bsn) if bsn else None, onderwijsnummer=onderwijsnummer,
            municipality=(self.municipality or "").strip() or None, school_id=self.school_id,
            education_kind=self.education_kind, education_level=self.education_level, guardians=tuple(self.guardians),
        )


@dataclass(frozen=True)
class SignalInput:
    kind: str
    source: str
    reporter_name: str | None = None
    reporter_function: str | None = None
    reporter_phone: str | None = None
    reporter_email: str | None = None
    period_first_on: date | None = None
    period_last_on: date | None = None
    hours_missed: float | None = None
    description: str | None = None

    def check(self, bounds: tuple[date, date] | None = None) -> None:
        errors: dict[str, str] = text_errors({k: getattr(self, k) for k in (
            "reporter_name", "reporter_function", "reporter_phone", "reporter_email", "description")}, TEXT_LIMITS)
        if "reporter_email" not in errors and email_error(self.reporter_email):
            errors["reporter_email"] = email_error(self.reporter_email)
        if bounds is not None:
            for name in ("period_first_on", "period_last_on"):
                if _out_of_range(getattr(self, name), bounds):
                    errors[name] = _out_of_range(getattr(self, name), bounds)
        if self.kind not in SIGNAL_KINDS:
            errors["kind"] = "Kies een soort verzuim."
        if self.source not in SIGNAL_SOURCES:
            errors["source"] = "Kies een bron."
        if self.period_first_on and self.period_last_on and self.period_last_on < self.period_first_on:
            errors["period_last_on"] = "De einddatum ligt vóór de begindatum."
        hours = self.hours_missed
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float) or not math.isfinite(hours)):
            errors["hours_missed"] = "Vul een aantal uren in, zoals 16 of 12,5."
        elif hours is not None and hours < 0:
            errors["hours_missed"] = "Het aantal uren kan niet negatief zijn."
        elif hours is not None and hours > HOURS_IN_FOUR_WEEKS:
            errors["hours_missed"] = (f"Meer dan {HOURS_IN_FOUR_WEEKS} uur (vier schoolweken) kan één melding niet "
                                      "bevatten.")
        if errors:
            raise ValidationError("De melding is niet compleet of niet juist.", errors=errors)


def validate_signal(youth: YouthInput, signal: SignalInput, today: date, first_absent_on: date | None = None,
                    errors: dict[str, str] | None = None, limits: InputSettings | None = None) -> YouthInput:
    """Check the youth and the melding together, so one submit reports every wrong field.

    Returns the cleaned youth; raises ValidationError with all field errors (plus `errors`
    the caller already found, e.g. a date it could not read).
    """
    limits = limits or InputSettings()
    bounds = case_date_bounds(limits, today)
    found = dict(errors or {})
    cleaned = youth
    try:
        cleaned = youth.cleaned(today, limits)
    except ValidationError as exc:
        found = {**exc.errors, **found}
    try:
        signal.check(bounds)
    except ValidationError as exc:
        found = {**exc.errors, **found}
    # The clock starts at the first day without education: given, or the period's first day.
    effective = first_absent_on or signal.period_first_on
    field = "first_absent_on" if first_absent_on is not None else "period_first_on"
    if effective is not None and effective > today:
        found[field] = "De eerste dag zonder onderwijs kan niet in de toekomst liggen."
    elif _out_of_range(effective, bounds):
        found[field] = _out_of_range(effective, bounds)
    elif effective is not None and isinstance(youth.birth_on, date) and effective < youth.birth_on:
        found.setdefault(field, "De eerste dag zonder onderwijs ligt vóór de geboortedatum.")
    if found:
        raise ValidationError("De gegevens zijn niet compleet of niet juist.", errors=found)
    return cleaned
