"""The thuiszitter flow as data: states, transitions, clock kinds, who may act, what they need.

Everything else is derived from these tables: the one Machine, the buttons a user sees, the
forms and their checks on submit, which columns a transition writes, which clocks start and
stop, the diagram, `mas workflow`. Adding a state or a clock touches this module and
config/ (its clock rule in clocks.toml, its ladder in escalation.toml), nothing else;
`validate()` (mas.workflows.machine) refuses a definition that cannot run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from mas.workflows.roles import DIRECTORS
from mas.workflows.vocabulary import CLOSING_REASONS, HALT_ROUTE, PEER_CONTACT, PV_ROUTE, ROUTES


@dataclass(frozen=True)
class ClockKind:
    """A kind of deadline: what must be done by then, how its date is found, who hears of it.

    `rule` says where the due moment comes from: "config" (its [clock.<name>] in
    config/clocks.toml: school days or calendar months from day 0) or "fixed" (a person sets
    it: a step's due date, a doorzetten deadline). A clock has a `ladder` in
    config/escalation.toml, or is a `milestone`: reached and recorded, never a reminder or an
    escalation.
    """

    name: str
    label: str  # what must be done by then, as the UI and the e-mails say it
    explanation: str  # why the clock exists: the first line of "Waarom deze datum?"
    rule: str  # "config" | "fixed"
    start: str  # what day 0 is, in words ("het begin van deze fase")
    ladder: str | None = None
    milestone: bool = False
    extendable: bool = True  # may a director move its due moment later?
    # For a state's clock: a date field of the entering transition that is day 0 instead of
    # the day the state was entered (the aanbod counts from the offer's planned start).
    start_field: str | None = None


@dataclass(frozen=True)
class ClockEffect:
    """What a transition (or the opening of a case) does to a clock of the whole case.

    start:   a new generation begins (a running one is closed first);
    stop:    the running generation has done its job (the offer started) and stops;
    restart: a new generation begins only if none is running (a relapse after an offer
             started; an offer that never started leaves the running clock counting on).
    Day 0 is the date in `from_field` (of the transition's data, else of the case), else today.
    """

    clock: str
    action: str  # "start" | "stop" | "restart"
    from_field: str | None = None


@dataclass(frozen=True)
class State:
    name: str
    label: str
    is_final: bool = False
    clock: str | None = None  # the clock kind this state starts when a case enters it


@dataclass(frozen=True)
class GuardField:
    """One piece of data a transition needs; the UI builds its form from these and the
    service checks them again on submit."""

    name: str
    label: str
    kind: str  # text | choice | date | organisation | int
    required: bool = True
    choices: dict[str, str] | None = None
    help: str = ""
    column: str | None = None  # the case column the value is written to, if any
    not_future: bool = False  # a date that cannot lie after today
    not_before: tuple[str, ...] = ()  # case fields (dates) this date may not precede
    # A value allowed only beside another field's value in the same form, e.g. a PV date only
    # with the route strafrechtelijk: (field, value).
    only_with: tuple[str, str] | None = None
    min_value: int | None = None  # int fields: the smallest and largest allowed
    max_value: int | None = None
    # The case column that keeps the day this value was set (the route's referral date:
    # Halt referrals are the route halt with this date).
    dated_column: str | None = None


@dataclass(frozen=True)
class Transition:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    label: str
    roles: tuple[str, ...] = DIRECTORS
    fields: tuple[GuardField, ...] = ()
    needs_reason: bool = False
    clocks: tuple[ClockEffect, ...] = ()  # what it does to the case's own clocks
    record: str | None = None  # a JSON case column that keeps all of its data (the maatwerkplan)
    clears: tuple[str, ...] = ()  # case columns it empties


# Labels of the case's own date fields, for explanations and error messages.
CASE_FIELDS = {
    "first_absent_on": "de eerste dag zonder onderwijs",
    "offer_started_on": "de start van het aanbod",
}

STEP_CLOCK = "step"
DOORZETTEN_CLOCK = "doorzetten"
PACT_CLOCK = "thuiszitterspact"
HANDOVER_CLOCK = "plichtovergang"

_AT_STATE_START = "het begin van deze fase"

CLOCKS: tuple[ClockKind, ...] = (
    ClockKind("signaal", "Signaal: contact leggen en gesprek plannen",
              "Na een signaal legt de casusregisseur contact met het gezin en plant een gesprek.",
              rule="config", start=_AT_STATE_START, ladder="state"),
    ClockKind("gesprek", "Gesprek voeren en route kiezen",
              "Het gesprek met jongere en ouders is gevoerd en geanalyseerd, en de route is gekozen.",
              rule="config", start=_AT_STATE_START, ladder="state"),
    ClockKind("zorgtafel", "Zorgtafel houden en maatwerkplan vaststellen",
              "De zorgtafel is gehouden en het persoonlijk maatwerkplan is vastgesteld.",
              rule="config", start=_AT_STATE_START, ladder="state"),
    ClockKind("aanbod", "Start van het aanbod",
              "Het aanbod uit het maatwerkplan is daadwerkelijk gestart.",
              rule="config", start="de geplande start van het aanbod (maatwerkplan)", ladder="state",
              start_field="planned_start_on"),
    ClockKind("terugleiding", "Nazorg en afsluitende evaluatie",
              "De jongere is terug op school; na de nazorg volgt een afsluitende evaluatie.",
              rule="config", start=_AT_STATE_START, ladder="state"),
    ClockKind(PACT_CLOCK, "Thuiszitterspact: passend aanbod binnen drie maanden",
              "Thuiszitterspact: geen jongere zit langer dan drie maanden thuis zonder passend aanbod.",
              rule="config", start=CASE_FIELDS["first_absent_on"], ladder="thuiszitterspact", extendable=False),
    ClockKind("lrv", "Mijlpaal langdurig relatief verzuim",
              "Na vier weken afwezigheid is de jongere een thuiszitter (langdurig relatief verzuim).",
              rule="config", start=CASE_FIELDS["first_absent_on"], milestone=True, extendable=False),
    ClockKind(STEP_CLOCK, "Stap voor een partnerorganisatie",
              "De casusregisseur heeft deze stap aan een partnerorganisatie toegewezen, met een uiterste datum.",
              rule="fixed", start="de dag van toewijzen", ladder="step"),
    ClockKind(DOORZETTEN_CLOCK, "Doorgezette stap",
              "De casusregisseur heeft doorgezet: een korte termijn, en de escalatiecontactpersoon is ingelicht.",
              rule="fixed", start="de dag van doorzetten", ladder="doorzetten"),
    ClockKind(HANDOVER_CLOCK, "Overdracht voorbereiden: de plicht van de jongere verandert",
              "De jongere gaat van leerplicht naar kwalificatieplicht, of wordt 18 (RMC / Doorstroompunt): de "
              "casusregisseur bereidt de overdracht voor, met school, ouders en jongere.",
              rule="fixed", start="weken vóór de verandering (config/mas.toml [obligation])", ladder="plichtovergang",
              extendable=False),
)

STATES: tuple[State, ...] = (
    State("signaal", "Signaal", clock="signaal"),
    State("gesprek", "Gesprek", clock="gesprek"),
    State("zorgtafel", "Zorgtafel", clock="zorgtafel"),
    State("aanbod", "Aanbod", clock="aanbod"),
    State("terugleiding", "Terugleiding", clock="terugleiding"),
    State("afgesloten", "Afgesloten", is_final=True),
)
INITIAL = STATES[0].name
OFFERED_STATES = ("aanbod",)
NAZORG_STATE = "terugleiding"
OPEN_STATES = tuple(s.name for s in STATES if not s.is_final)

# When a case opens: the case's own clocks, counted from the first day without education.
OPENING_CLOCKS = (
    ClockEffect(PACT_CLOCK, "start", from_field="first_absent_on"),
    ClockEffect("lrv", "start", from_field="first_absent_on"),
)

_HOME_AGAIN = GuardField(
    "home_again_on", "Weer thuis sinds", "date", not_future=True, not_before=("offer_started_on",),
    help="De eerste dag zonder onderwijs: de Thuiszitterspact-klok begint opnieuw vanaf deze dag.",
)
_CLOSING = GuardField("closing_reason", "Reden van afsluiten", "choice", choices=CLOSING_REASONS,
                      column="closing_reason")
# Peer-expert indicators (the Krachtpunt pilot), asked on every closing form.
_SATISFACTION_HELP = "1 = zeer ontevreden, 5 = zeer tevreden; leeg als het niet gevraagd is."
_CLOSING_INDICATORS = (
    GuardField("peer_contact", "Contact gehad met een ervaringsdeskundige", "choice", required=False,
               choices=PEER_CONTACT, column="peer_contact"),
    GuardField("satisfaction_youth", "Tevredenheid van de jongere (1–5)", "int", required=False,
               min_value=1, max_value=5, help=_SATISFACTION_HELP, column="satisfaction_youth"),
    GuardField("satisfaction_professionals", "Tevredenheid van de professionals (1–5)", "int", required=False,
               min_value=1, max_value=5, help=_SATISFACTION_HELP, column="satisfaction_professionals"),
)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "plan_gesprek", ("signaal",), "gesprek", "Contact gelegd, gesprek plannen",
        fields=(GuardField("gesprek_on", "Datum gesprek", "date", required=False),),
    ),
    Transition(
        "naar_zorgtafel", ("gesprek",), "zorgtafel", "Gesprek gevoerd, naar de zorgtafel",
        fields=(
            GuardField("gesprek_report", "Verslag van het gesprek", "text", column="gesprek_report"),
            GuardField("route", "Gekozen route", "choice", choices=ROUTES, column="route", dated_column="route_on"),
            GuardField("pv_on", "Datum proces-verbaal", "date", required=False, column="pv_on", not_future=True,
                       only_with=("route", PV_ROUTE),
                       help="Alleen bij de route strafrechtelijk: de dag dat het proces-verbaal is opgemaakt."),
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
        record="maatwerkplan",
    ),
    Transition(
        "aanbod_gestart", ("aanbod",), "terugleiding", "Aanbod is gestart",
        fields=(GuardField("offer_started_on", "Datum daadwerkelijke start", "date", column="offer_started_on",
                           not_future=True, not_before=("first_absent_on",)),),
        # The offer started: the youth is no longer at home without one.
        clocks=(ClockEffect(PACT_CLOCK, "stop", from_field="offer_started_on"),
                ClockEffect("lrv", "stop", from_field="offer_started_on")),
    ),
    Transition(
        # The offer never started, so the Thuiszitterspact clock never stopped: it runs on.
        "aanbod_mislukt", ("aanbod",), "zorgtafel", "Aanbod mislukt: terug naar de zorgtafel",
        needs_reason=True, clocks=(ClockEffect(PACT_CLOCK, "restart"),),
    ),
    Transition(
        "terugval", ("terugleiding",), "zorgtafel", "Terugval: terug naar de zorgtafel",
        fields=(_HOME_AGAIN,), needs_reason=True, clears=("offer_started_on",),
        clocks=(ClockEffect(PACT_CLOCK, "restart", from_field="home_again_on"),),
    ),
    Transition(
        "nazorg_afgerond", ("terugleiding",), "afgesloten", "Nazorg afgerond, afsluiten",
        fields=(_CLOSING, *_CLOSING_INDICATORS),
    ),
    Transition(
        "sluiten", OPEN_STATES, "afgesloten", "Zaak afsluiten",
        fields=(_CLOSING, *_CLOSING_INDICATORS), needs_reason=True,
    ),
)


@dataclass(frozen=True, eq=False)  # hashed by identity: one Machine per definition
class Workflow:
    states: tuple[State, ...] = STATES
    transitions: tuple[Transition, ...] = TRANSITIONS
    clocks: tuple[ClockKind, ...] = CLOCKS
    initial: str = INITIAL
    opening_clocks: tuple[ClockEffect, ...] = OPENING_CLOCKS
    step_clock: str = STEP_CLOCK  # the clock of a step assigned to a partner
    doorzetten_clock: str = DOORZETTEN_CLOCK  # the clock of escalating by hand
    pact_clock: str = PACT_CLOCK  # the clock the werkvoorraad counts down in calendar days
    handover_clock: str = HANDOVER_CLOCK  # weeks before the youth's obligation changes (turning 18, …)
    case_fields: Mapping[str, str] = field(default_factory=lambda: dict(CASE_FIELDS))
    closing_reasons: dict[str, str] = field(default_factory=lambda: dict(CLOSING_REASONS))
    routes: dict[str, str] = field(default_factory=lambda: dict(ROUTES))
    # Roles that may direct a case in this flow (fire transitions, assign steps, …).
    directors: tuple[str, ...] = DIRECTORS
    # What the figures read from the flow: the states in which an offer is agreed but has not
    # started yet ("met aanbod"), and the state of nazorg after the return to school (leaving
    # it for a final state is a return that held; for an open state, a relapse).
    offered_states: tuple[str, ...] = OFFERED_STATES
    nazorg_state: str = NAZORG_STATE
    halt_route: str = HALT_ROUTE
    pv_route: str = PV_ROUTE

    def _index(self, name: str, items, key) -> dict:
        cached = self.__dict__.get(name)
        if cached is None:  # frozen: keep the index beside the fields, built once
            cached = {key(item): item for item in items}
            object.__setattr__(self, name, cached)
        return cached

    def transition(self, trigger: str) -> Transition | None:
        return self._index("_by_trigger", self.transitions, lambda t: t.trigger).get(trigger)

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if state in t.sources)

    def state(self, name: str) -> State | None:
        return self._index("_by_state", self.states, lambda s: s.name).get(name)

    def is_final(self, state: str) -> bool:
        found = self.state(state)
        return found is not None and found.is_final

    @property
    def open_states(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states if not s.is_final)

    def clock(self, name: str) -> ClockKind | None:
        return self._index("_by_clock", self.clocks, lambda c: c.name).get(name)

    def state_clock(self, state: str) -> ClockKind | None:
        found = self.state(state)
        return self.clock(found.clock) if found is not None and found.clock else None

    def state_label(self, state: str | None) -> str:
        found = self.state(state) if state else None
        return found.label if found else (state or "")

    def clock_label(self, name: str) -> str:
        found = self.clock(name)
        return found.label if found else name

    def field_label(self, name: str) -> str:
        """A date or value's label: a transition field's, else a case field's."""
        for t in self.transitions:
            for f in t.fields:
                if f.name == name:
                    return f.label
        return self.case_fields.get(name, name)


WORKFLOW = Workflow()

__all__ = ["CASE_FIELDS", "CLOCKS", "ClockEffect", "ClockKind", "GuardField", "State", "Transition", "WORKFLOW",
           "Workflow"]
