"""What a new signal brings in: the youth, the guardians, the melding. Validated per field."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from mas.bsn import bsn_problem, normalise_bsn
from mas.services.errors import ValidationError
from mas.workflows.vocabulary import SIGNAL_KINDS, SIGNAL_SOURCES


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

    def cleaned(self, today: date) -> YouthInput:
        errors: dict[str, str] = {}
        if not (self.given_name or "").strip():
            errors["given_name"] = "Voornaam is verplicht."
        if not (self.family_name or "").strip():
            errors["family_name"] = "Achternaam is verplicht."
        if self.birth_on is None:
            errors["birth_on"] = "Geboortedatum is verplicht."
        elif not isinstance(self.birth_on, date) or self.birth_on >= today:
            errors["birth_on"] = "Geboortedatum moet in het verleden liggen."
        bsn = (self.bsn or "").strip() or None
        onderwijsnummer = (self.onderwijsnummer or "").strip() or None
        if bsn and bsn_problem(bsn):
            errors["bsn"] = bsn_problem(bsn)
        if onderwijsnummer and not (len(onderwijsnummer) == 9 and onderwijsnummer.isdigit()):
            errors["onderwijsnummer"] = "Een onderwijsnummer heeft negen cijfers."
        if not bsn and not onderwijsnummer:
            errors["bsn"] = "Vul een BSN of een onderwijsnummer in."
        for i, guardian in enumerate(self.guardians):
            if not guardian.name.strip():
                errors[f"guardians.{i}.name"] = "Naam van de ouder/verzorger is verplicht."
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

    def check(self) -> None:
        errors: dict[str, str] = {}
        if self.kind not in SIGNAL_KINDS:
            errors["kind"] = "Kies een soort verzuim."
        if self.source not in SIGNAL_SOURCES:
            errors["source"] = "Kies een bron."
        if self.period_first_on and self.period_last_on and self.period_last_on < self.period_first_on:
            errors["period_last_on"] = "De einddatum ligt vóór de begindatum."
        if self.hours_missed is not None and self.hours_missed < 0:
            errors["hours_missed"] = "Het aantal uren kan niet negatief zijn."
        if errors:
            raise ValidationError("De melding is niet compleet of niet juist.", errors=errors)


def validate_signal(youth: YouthInput, signal: SignalInput, today: date, first_absent_on: date | None = None,
                    errors: dict[str, str] | None = None) -> YouthInput:
    """Check the youth and the melding together, so one submit reports every wrong field.

    Returns the cleaned youth; raises ValidationError with all field errors (plus `errors`
    the caller already found, e.g. a date it could not read).
    """
    found = dict(errors or {})
    cleaned = youth
    try:
        cleaned = youth.cleaned(today)
    except ValidationError as exc:
        found = {**exc.errors, **found}
    try:
        signal.check()
    except ValidationError as exc:
        found = {**exc.errors, **found}
    # The clock starts at the first day without education: given, or the period's first day.
    effective = first_absent_on or signal.period_first_on
    if effective is not None and effective > today:
        field = "first_absent_on" if first_absent_on is not None else "period_first_on"
        found[field] = "De eerste dag zonder onderwijs kan niet in de toekomst liggen."
    if found:
        raise ValidationError("De gegevens zijn niet compleet of niet juist.", errors=found)
    return cleaned
