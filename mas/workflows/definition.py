"""The thuiszitter flow as data: states, transitions, who may fire them and what they need.

Everything else (the Machine, the buttons a user sees, the forms, the validation on submit,
`mas workflow`) is derived from these tables. Change the flow here, nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Roles that direct a case. Which user of that role may act on which case is the access
# policy's business (mas.services.access): the case's own casusregisseur, the team's coordinator.
DIRECTORS = ("casusregisseur", "coordinator")

ROUTES = {
    "vrijwillig": "Vrijwillige hulp (school, wijkteam, jeugdhulp)",
    "halt": "Halt",
    "civiel": "Civiel: Raad voor de Kinderbescherming",
    "strafrechtelijk": "Strafrechtelijk: proces-verbaal aan het OM",
}

# The seven DUO closing reasons, then the two municipal ones.
CLOSING_REASONS = {
    "terug_naar_school": "Terug naar school",
    "andere_opleiding": "Andere opleiding",
    "werk": "Werk",
    "overige": "Overige",
    "overleden": "Overleden",
    "langdurig_ziek": "Langdurig ziek",
    "legitiem_afwezig": "Legitiem afwezig",
    "vrijstelling": "Vrijstelling",
    "verhuisd": "Verhuisd",
}


@dataclass(frozen=True)
class State:
    name: str
    label: str
    is_final: bool = False


@dataclass(frozen=True)
class GuardField:
    """One piece of data a transition's guard needs; the UI builds its form from these."""

    name: str
    label: str
    kind: str  # text | choice | date | organisation | int
    required: bool = True
    choices: dict[str, str] | None = None
    help: str = ""


@dataclass(frozen=True)
class Transition:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    label: str
    roles: tuple[str, ...] = DIRECTORS
    fields: tuple[GuardField, ...] = ()
    needs_reason: bool = False
    # What the transition does to the case-wide clocks (see mas.clocks.rules).
    pact: str = ""  # "" | "stop" (the offer started) | "restart" (youth at home again)


STATES: tuple[State, ...] = (
    State("signaal", "Signaal"),
    State("gesprek", "Gesprek"),
    State("zorgtafel", "Zorgtafel"),
    State("aanbod", "Aanbod"),
    State("terugleiding", "Terugleiding"),
    State("afgesloten", "Afgesloten", is_final=True),
)
INITIAL = "signaal"
OPEN_STATES = tuple(s.name for s in STATES if not s.is_final)

_HOME_AGAIN = GuardField(
    "home_again_on", "Weer thuis sinds", "date",
    help="De eerste dag zonder onderwijs: de Thuiszitterspact-klok begint opnieuw vanaf deze dag.",
)
_CLOSING = GuardField("closing_reason", "Reden van afsluiten", "choice", choices=CLOSING_REASONS)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "plan_gesprek", ("signaal",), "gesprek", "Contact gelegd, gesprek plannen",
        fields=(GuardField("gesprek_on", "Datum gesprek", "date", required=False),),
    ),
    Transition(
        "naar_zorgtafel", ("gesprek",), "zorgtafel", "Gesprek gevoerd, naar de zorgtafel",
        fields=(
            GuardField("gesprek_report", "Verslag van het gesprek", "text"),
            GuardField("route", "Gekozen route", "choice", choices=ROUTES),
        ),
    ),
    Transition(
        "maatwerkplan_vastgesteld", ("zorgtafel",), "aanbod", "Maatwerkplan vastgesteld",
        fields=(
            GuardField("offer", "Het aanbod (onderwijs en/of zorg)", "text"),
            GuardField("responsible_organisation_id", "Verantwoordelijke organisatie", "organisation"),
            GuardField("planned_start_on", "Geplande start", "date"),
            GuardField("orientation_weeks", "Oriëntatieperiode (weken)", "int", required=False),
        ),
    ),
    Transition(
        "aanbod_gestart", ("aanbod",), "terugleiding", "Aanbod is gestart",
        fields=(GuardField("offer_started_on", "Datum daadwerkelijke start", "date"),),
        pact="stop",
    ),
    Transition(
        # The offer never started, so the Thuiszitterspact clock never stopped: it runs on.
        "aanbod_mislukt", ("aanbod",), "zorgtafel", "Aanbod mislukt: terug naar de zorgtafel",
        needs_reason=True, pact="restart",
    ),
    Transition(
        "terugval", ("terugleiding",), "zorgtafel", "Terugval: terug naar de zorgtafel",
        fields=(_HOME_AGAIN,), needs_reason=True, pact="restart",
    ),
    Transition(
        "nazorg_afgerond", ("terugleiding",), "afgesloten", "Nazorg afgerond, afsluiten",
        fields=(_CLOSING,),
    ),
    Transition(
        "sluiten", OPEN_STATES, "afgesloten", "Zaak afsluiten",
        fields=(_CLOSING,), needs_reason=True,
    ),
)

# The transitions whose guard needs the offer's start date to be known: terugleiding is
# never entered without it (an invariant the tests check).
REQUIRES_OFFER_START = {"terugleiding"}

STATE_BY_NAME = {s.name: s for s in STATES}
TRANSITION_BY_TRIGGER = {t.trigger: t for t in TRANSITIONS}


@dataclass(frozen=True)
class CaseClock:
    """A clock that belongs to the case as a whole rather than to one state."""

    kind: str
    label: str
    owner: str = "case"


CASE_CLOCKS = (
    CaseClock("thuiszitterspact", "Thuiszitterspact: binnen 3 maanden een passend aanbod"),
    CaseClock("lrv", "Langdurig relatief verzuim (LRV-mijlpaal)"),
)


@dataclass(frozen=True, eq=False)  # hashed by identity: one Machine per definition
class Workflow:
    states: tuple[State, ...] = STATES
    transitions: tuple[Transition, ...] = TRANSITIONS
    initial: str = INITIAL
    case_clocks: tuple[CaseClock, ...] = CASE_CLOCKS
    closing_reasons: dict[str, str] = field(default_factory=lambda: dict(CLOSING_REASONS))
    routes: dict[str, str] = field(default_factory=lambda: dict(ROUTES))

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if state in t.sources)

    def transition(self, trigger: str) -> Transition | None:
        by_trigger = self.__dict__.get("_by_trigger")
        if by_trigger is None:  # frozen: cache the index beside the fields, once
            by_trigger = {t.trigger: t for t in self.transitions}
            object.__setattr__(self, "_by_trigger", by_trigger)
        return by_trigger.get(trigger)


WORKFLOW = Workflow()
