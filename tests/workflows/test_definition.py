"""The flow as data: validated, one Machine, Mermaid output, guards."""

from dataclasses import replace
from datetime import date

import pytest

from mas.settings import load_settings
from mas.workflows import WORKFLOW, machine, next_state, to_mermaid, validate
from mas.workflows.definition import OPEN_STATES, TRANSITION_BY_TRIGGER, Transition
from mas.workflows.guards import clean_guard_data
from mas.workflows.machine import MachineError, WorkflowDefinitionError

CLOCK_STATES = set(load_settings(environ={}, env="test", instance_dir="/tmp/mas-unused").clocks.states)


def test_shipped_definition_is_valid():
    validate(WORKFLOW, CLOCK_STATES)


def test_machine_is_built_once_and_holds_no_models():
    assert machine() is machine()
    for _ in range(100):
        next_state("signaal", "plan_gesprek")
    assert machine().models == []


@pytest.mark.parametrize("state,trigger,dest", [
    ("signaal", "plan_gesprek", "gesprek"),
    ("gesprek", "naar_zorgtafel", "zorgtafel"),
    ("zorgtafel", "maatwerkplan_vastgesteld", "aanbod"),
    ("aanbod", "aanbod_gestart", "terugleiding"),
    ("aanbod", "aanbod_mislukt", "zorgtafel"),
    ("terugleiding", "terugval", "zorgtafel"),
    ("terugleiding", "nazorg_afgerond", "afgesloten"),
] + [(s, "sluiten", "afgesloten") for s in OPEN_STATES])
def test_transitions_lead_where_the_flow_says(state, trigger, dest):
    assert next_state(state, trigger) == dest


@pytest.mark.parametrize("state,trigger", [
    ("signaal", "naar_zorgtafel"), ("afgesloten", "sluiten"), ("afgesloten", "plan_gesprek"),
    ("gesprek", "aanbod_gestart"),
])
def test_transitions_from_the_wrong_state_are_refused(state, trigger):
    with pytest.raises(MachineError):
        next_state(state, trigger)


def test_no_automatic_to_state_triggers():
    assert not any(name.startswith("to_") for name in machine().events)


def _broken(**changes):
    return replace(WORKFLOW, **changes)


def test_unreachable_state_is_refused():
    transitions = tuple(t for t in WORKFLOW.transitions if t.dest != "aanbod")
    with pytest.raises(WorkflowDefinitionError, match="aanbod.*unreachable"):
        validate(_broken(transitions=transitions), CLOCK_STATES)


def test_exit_from_final_state_is_refused():
    extra = Transition("heropenen", ("afgesloten",), "signaal", "Heropenen")
    with pytest.raises(WorkflowDefinitionError, match="leaves a final state"):
        validate(_broken(transitions=WORKFLOW.transitions + (extra,)), CLOCK_STATES)


def test_every_open_state_needs_a_clock_and_every_clock_an_owner():
    with pytest.raises(WorkflowDefinitionError, match="'gesprek' has no clock"):
        validate(WORKFLOW, CLOCK_STATES - {"gesprek"})
    with pytest.raises(WorkflowDefinitionError, match="'wachtkamer' .* belongs to no open state"):
        validate(WORKFLOW, CLOCK_STATES | {"wachtkamer"})


def test_mermaid_lists_every_transition():
    text = to_mermaid()
    assert text.startswith("stateDiagram-v2\n")
    assert "aanbod --> zorgtafel: Aanbod mislukt" in text
    assert "afgesloten --> [*]" in text
    assert text.count("-->") == sum(len(t.sources) for t in WORKFLOW.transitions) + 2


def test_guard_data_is_cleaned_from_form_strings():
    t = TRANSITION_BY_TRIGGER["maatwerkplan_vastgesteld"]
    cleaned, errors = clean_guard_data(t, {
        "offer": "  Deeltijdrooster ", "responsible_organisation_id": "7", "planned_start_on": "2026-04-01",
        "orientation_weeks": "", "unknown": "dropped",
    }, None)
    assert errors == {}
    assert cleaned == {"offer": "Deeltijdrooster", "responsible_organisation_id": 7, "planned_start_on": date(2026, 4, 1)}


def test_guard_errors_are_per_field_and_in_dutch():
    t = TRANSITION_BY_TRIGGER["naar_zorgtafel"]
    _, errors = clean_guard_data(t, {"gesprek_report": " ", "route": "ophokken"}, None)
    assert errors == {"gesprek_report": "Verslag van het gesprek is verplicht.", "route": "Kies een van de mogelijkheden."}
    _, errors = clean_guard_data(TRANSITION_BY_TRIGGER["terugval"], {"home_again_on": "31-02-2026"}, "")
    assert set(errors) == {"home_again_on", "reason"}
