"""The JSON API's requests and responses, as pydantic models: they parse every request, shape
every response, and the OpenAPI document is generated from them (mas.web.api.openapi).

Types only: lengths, ranges, which values a list field takes. Whether a value is right for
this case and this actor is the services' business, checked there whichever way a request
came in. Models that name states, clock kinds or a transition's fields are built from the
workflow's data (`for_workflow`), never spelled here.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model

from mas.workflows import GuardField, Workflow
from mas.workflows.vocabulary import SIGNAL_KINDS, SIGNAL_SOURCES

MAX_ID = 2**31 - 1  # what an integer column holds on both databases
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)  # beyond them no school calendar reaches


def _plain_text(value: str) -> str:
    """Text a database can keep: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if "\x00" in value:
        raise ValueError("Tekst mag geen NUL-teken bevatten.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Geen geldige tekst (UTF-8).") from None
    return value


def _day_in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"Een datum tussen {FIRST_DAY.isoformat()} en {LAST_DAY.isoformat()}.")
    return value


def text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=r"^[^\x00]*$"),
                     AfterValidator(_plain_text)]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_ID, description="De versie zoals u die het laatst las.")]
Day = Annotated[date, AfterValidator(_day_in_range),
                Field(description=f"Een datum (jjjj-mm-dd) tussen {FIRST_DAY.isoformat()} en {LAST_DAY.isoformat()}.")]
Reference = Annotated[str, StringConstraints(max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
SignalKind = Literal[tuple(SIGNAL_KINDS)]
SignalSource = Literal[tuple(SIGNAL_SOURCES)]


class Model(BaseModel):
    """Unknown fields are refused: a typo in a field name is an error, not silently lost data."""

    model_config = ConfigDict(extra="forbid")


# --- Problems (RFC 9457) --------------------------------------------------------------------

class FieldError(BaseModel):
    field: str = Field(description="Het veld, met punten: `youth.bsn`, `data.route`, of een header.")
    pointer: str = Field(description="Hetzelfde als JSON Pointer in de body (RFC 6901), bijvoorbeeld `#/youth/bsn`.")
    detail: str


class Problem(BaseModel):
    """An error, as `application/problem+json` (RFC 9457)."""

    type: str = Field(description="Een URI die de soort fout noemt.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="De velden die niet goed zijn.")
    current_version: int | None = Field(default=None, description="Bij 409: de versie die nu geldt.")


# --- Signals ------------------------------------------------------------------------------

class GuardianIn(Model):
    name: text(200, 1)
    relation: text(50) = "ouder"
    phone: text(50) | None = None
    email: text(254) | None = None
    has_custody: bool = True


class YouthIn(Model):
    given_name: text(100, 1)
    family_name: text(100, 1)
    birth_on: Day
    bsn: text(20) | None = Field(default=None, description="BSN (elfproef); of een onderwijsnummer.")
    onderwijsnummer: text(20) | None = None
    municipality: text(100) | None = Field(
        default=None, description="Woongemeente: bepaalt welk team het signaal krijgt.")
    school_id: Id | None = Field(default=None, description="De school (organisatie-id); de gemeente van de school "
                                                            "bepaalt de vakantieregio.")
    education_kind: text(20) | None = None
    education_level: text(20) | None = None
    guardians: list[GuardianIn] = Field(default_factory=list, max_length=4)


class MeldingIn(Model):
    kind: SignalKind = Field(description="Soort verzuim.")
    source: SignalSource = Field(description="Waar het signaal vandaan komt.")
    reporter_name: text(200) | None = None
    reporter_function: text(200) | None = None
    reporter_phone: text(50) | None = None
    reporter_email: text(254) | None = None
    period_first_on: Day | None = None
    period_last_on: Day | None = None
    hours_missed: Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)] | None = None
    description: text(5000) | None = None


class SignalIn(Model):
    """A verzuimmelding or another signal about one youth."""

    youth: YouthIn
    signal: MeldingIn
    first_absent_on: Day | None = Field(default=None, description="Eerste dag zonder onderwijs, als die eerder ligt "
                                                                   "dan de meldperiode.")
    casusregisseur_id: Id | None = Field(default=None, description="Alleen voor het eigen team.")


class SignalReceiptOut(BaseModel):
    receipt_id: str = Field(description="Het ontvangstbewijs.")
    status: Literal["ontvangen"] = "ontvangen"
    received_at: datetime
    reference: str | None = Field(description="Het zaaknummer, alleen als uw eigen team de zaak voert.")


# --- Cases ----------------------------------------------------------------------------------

class CaseListItem(BaseModel):
    reference: str
    state: str
    state_label: str
    name: str
    school: str | None
    opened_at: datetime
    closed_at: datetime | None
    nearest_due: datetime | None
    nearest_clock: str | None
    nearest_what: str | None
    school_days_left: int | None
    pact_days_left: int | None
    is_overdue: bool
    is_escalated: bool
    is_mine: bool


class CaseList(BaseModel):
    items: list[CaseListItem]
    next_cursor: str | None = Field(description="Geef dit als `cursor` voor de volgende bladzijde; leeg op de laatste.")


class ClockOut(BaseModel):
    id: int
    kind: str
    label: str
    status: str
    generation: int
    started_on: date
    due_at: datetime | None
    rung: str | None = Field(description="De naam van de hoogste trede van de escalatieladder die deze klok bereikte "
                                         "(config/escalation.toml, bijv. `herinnering`, `verstreken`); leeg: nog geen.")
    step_id: int | None
    explanation: list[str] = Field(description="Waarom deze datum: het doel, dag 0, de regel, wat niet meetelde.")


class StepOut(BaseModel):
    id: int
    title: str
    description: str | None
    organisation_id: int
    organisation: str | None
    status: str
    version: int
    due_at: datetime
    completed_at: datetime | None
    completion_note: str | None


class JournalEntry(BaseModel):
    id: int
    at: datetime
    kind: str
    actor: str | None
    actor_role: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    data: dict[str, Any] | None


class FieldInfo(BaseModel):
    name: str
    label: str
    kind: str
    required: bool
    choices: dict[str, str] | None
    help: str


class TransitionInfo(BaseModel):
    name: str
    label: str
    to_state: str
    needs_reason: bool
    fields: list[FieldInfo]


class YouthOut(BaseModel):
    given_name: str
    family_name: str
    birth_on: date
    bsn: str | None
    onderwijsnummer: str | None
    municipality: str | None
    school: str | None


class CaseOut(BaseModel):
    reference: str
    state: str
    state_label: str
    version: int = Field(description="Stuur deze mee bij een overgang.")
    region: str
    route: str | None
    first_absent_on: date
    offer_started_on: date | None
    opened_at: datetime
    closed_at: datetime | None
    closing_reason: str | None
    casusregisseur: str | None
    basis: str = Field(description="Op welke grond u de zaak leest (eigen zaak of team).")
    may_direct: bool
    youth: YouthOut
    clocks: list[ClockOut]
    steps: list[StepOut]
    journal: list[JournalEntry]
    transitions: list[TransitionInfo] = Field(description="De overgangen die u nu mag uitvoeren.")


class CaseStateOut(BaseModel):
    reference: str
    state: str
    state_label: str
    version: int


class StepAssignedOut(BaseModel):
    id: int
    title: str
    description: str | None
    organisation_id: int
    status: str
    version: int
    due_at: datetime


class StepIn(Model):
    organisation_id: Id
    title: text(200, 1)
    description: text(5000) | None = None
    due_on: Day = Field(description="Uiterste datum (tot het eind van die dag).")


# --- A partner's steps ------------------------------------------------------------------------

class StepCase(BaseModel):
    reference: str
    given_name: str
    school: str | None


class PartnerStep(BaseModel):
    id: int
    title: str
    description: str | None
    due_at: datetime
    status: str
    version: int
    open_extension_requests: int
    case: StepCase


class PartnerStepList(BaseModel):
    items: list[PartnerStep]


class CompleteIn(Model):
    version: Version
    note: text(5000) | None = None


class StepDoneOut(BaseModel):
    id: int
    status: str
    version: int
    completed_at: datetime | None


class ExtensionIn(Model):
    proposed_due_on: Day
    reason: text(5000, 1)


class ExtensionOut(BaseModel):
    id: int
    step_id: int
    status: Literal["open"] = "open"
    proposed_due_at: datetime


# --- Who am I --------------------------------------------------------------------------------

class MeOut(BaseModel):
    name: str
    email: str
    role: str
    team_id: int | None
    organisation_id: int | None
    is_service_account: bool
    scopes: list[str]
    token_expires_at: datetime


# --- Built from the workflow -------------------------------------------------------------------

def _guard_type(field: GuardField) -> Any:
    if field.kind == "date":
        return Day
    if field.kind == "organisation":
        return Id
    if field.kind == "int":
        return Annotated[int, Field(ge=0, le=MAX_ID)]
    if field.kind == "choice":
        return Literal[tuple(field.choices or {"": ""})]
    return text(20_000)


class WorkflowModels:
    """The models that name the flow's own states and transitions."""

    def __init__(self, workflow: Workflow):
        self.transition_in = self._transition_in(workflow)
        self.case_filters = self._case_filters(workflow)

    @staticmethod
    def _transition_in(workflow: Workflow) -> Any:
        variants = []
        for t in workflow.transitions:
            fields = {f.name: ((_guard_type(f) if f.required else _guard_type(f) | None),
                               Field(... if f.required else None, description=f.label))
                      for f in t.fields}
            data = create_model(f"Data_{t.trigger}", __base__=Model, **fields)
            variants.append(create_model(
                f"Transition_{t.trigger}", __base__=Model, __doc__=t.label,
                name=(Literal[t.trigger], Field(description=t.label)),
                version=(Version, ...),
                reason=(text(20_000) | None, Field(None, description="Verplicht als de overgang een reden vraagt.")),
                data=(data, Field(default_factory=data) if not any(f.required for f in t.fields) else ...),
            ))
        return Annotated[Union[tuple(variants)], Field(discriminator="name")]

    @staticmethod
    def _case_filters(workflow: Workflow) -> type[BaseModel]:
        return create_model(
            "CaseFilters", __base__=Model,
            scope=(Literal["mine", "team"], Field("mine", description="Mijn zaken of die van het hele team "
                                                                      "(een coördinator ziet altijd het team).")),
            status=(Literal["open", "closed", "all"], Field("open", description="Lopende, afgesloten of alle zaken.")),
            state=(Literal[tuple(s.name for s in workflow.states)] | None, Field(None, description="Fase.")),
            school_id=(Id | None, None),
            overdue=(bool, Field(False, description="Alleen zaken met een verlopen termijn.")),
            q=(text(100) | None, Field(None, description="Zoek op zaaknummer of naam (wordt gelogd).")),
            cursor=(Annotated[str, StringConstraints(max_length=40, pattern=r"^[A-Za-z0-9_-]*$")] | None,
                    Field(None, description="De `next_cursor` van de vorige bladzijde.")),
            limit=(Annotated[int, Field(ge=1, le=200)], 50),
        )


@cache
def for_workflow(workflow: Workflow) -> WorkflowModels:
    return WorkflowModels(workflow)
