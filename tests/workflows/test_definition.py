"""The flow as data: validated, one Machine, Mermaid output, guards, clock kinds."""

from dataclasses import replace
from datetime import date

import pytest

from mas.clocks.ladder import load_ladders
from mas.settings import ClockRule, load_settings
from mas.workflows import WORKFLOW, ClockEffect, ClockKind, State, machine, next_state, to_mermaid, validate
from mas.workflows.definition import OPEN_STATES, Transition
from mas.workflows.guards import clean_guard_data
from mas.workflows.machine import MachineError, WorkflowDefinitionError

SETTINGS = load_settings(environ={}, env="test", instance_dir="/tmp/mas-unused")
RULES = dict(SETTINGS.clocks)
LADDERS = set(load_ladders(SETTINGS.config_dir).by_name)


def _transition(trigger: str) -> Transition:
    found = WORKFLOW.transition(trigger)
    assert found is not None
    return found


def test_shipped_definition_is_valid():
    validate(WORKFLOW, RULES, LADDERS)


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


def _refused(workflow, match, rules=None, ladders=None):
    with pytest.raises(WorkflowDefinitionError, match=match):
        validate(workflow, RULES if rules is None else rules, LADDERS if ladders is None else ladders)


def test_unreachable_state_is_refused():
    _refused(_broken(transitions=tuple(t for t in WORKFLOW.transitions if t.dest != "aanbod")), "aanbod.*unreachable")


def test_exit_from_final_state_is_refused():
    extra = Transition("heropenen", ("afgesloten",), "signaal", "Heropenen")
    _refused(_broken(transitions=WORKFLOW.transitions + (extra,)), "leaves a final state")


def test_every_open_state_needs_a_clock_and_every_configured_clock_a_kind():
    states = tuple(replace(s, clock=None) if s.name == "gesprek" else s for s in WORKFLOW.states)
    _refused(_broken(states=states), "'gesprek' has no clock")
    _refused(WORKFLOW, "add \\[clock.gesprek\\]", rules={k: v for k, v in RULES.items() if k != "gesprek"})
    _refused(WORKFLOW, "\\[clock.wachtkamer\\] .* belongs to no clock kind",
             rules={**RULES, "wachtkamer": ClockRule("wachtkamer", "school_days", 3)})


@pytest.mark.parametrize("change,match", [
    ({"label": ""}, "has no label"),
    ({"explanation": " "}, "has no explanation"),
    ({"start": ""}, "has no start"),
    ({"rule": "roughly"}, "rule must be one of"),
    ({"ladder": None}, "needs a ladder .* or milestone"),
    ({"ladder": "nergens"}, "\\[ladder.nergens\\] is missing"),
    ({"milestone": True}, "is a milestone and so never escalates"),
])
def test_a_clock_kind_needs_a_label_a_rule_an_explanation_and_a_ladder_or_milestone(change, match):
    clocks = tuple(replace(c, **change) if c.name == "gesprek" else c for c in WORKFLOW.clocks)
    _refused(_broken(clocks=clocks), match)


def test_a_ladder_the_config_lacks_is_refused_at_start_up():
    _refused(WORKFLOW, "\\[ladder.thuiszitterspact\\] is missing", ladders=LADDERS - {"thuiszitterspact"})


def test_clock_effects_must_name_a_computed_clock_and_a_date_field():
    bad = (ClockEffect("bestaat_niet", "start"), ClockEffect("step", "stop"),
           ClockEffect("thuiszitterspact", "pauzeer"), ClockEffect("lrv", "start", from_field="route"))
    transitions = tuple(replace(t, clocks=bad) if t.trigger == "plan_gesprek" else t for t in WORKFLOW.transitions)
    with pytest.raises(WorkflowDefinitionError) as refused:
        validate(_broken(transitions=transitions), RULES, LADDERS)
    message = str(refused.value)
    assert "unknown clock kind 'bestaat_niet'" in message
    assert "clock 'step' is set by a person" in message
    assert "clock action must be one of" in message
    assert "day 0 'route' is no date field" in message


def test_the_lrv_mijlpaal_is_a_milestone_and_the_pact_clock_cannot_be_extended():
    lrv, pact = WORKFLOW.clock("lrv"), WORKFLOW.clock(WORKFLOW.pact_clock)
    assert lrv.milestone and lrv.ladder is None
    assert not pact.extendable and pact.ladder == "thuiszitterspact"
    # The offer starting stops both; a relapse restarts the pact clock from the day home again.
    assert {(e.clock, e.action) for e in _transition("aanbod_gestart").clocks} == {
        ("thuiszitterspact", "stop"), ("lrv", "stop")}
    assert [(e.clock, e.action, e.from_field) for e in _transition("terugval").clocks] == [
        ("thuiszitterspact", "restart", "home_again_on")]


def test_mermaid_lists_every_transition():
    text = to_mermaid()
    assert text.startswith("stateDiagram-v2\n")
    assert "aanbod --> zorgtafel: Aanbod mislukt" in text
    assert "afgesloten --> [*]" in text
    assert text.count("-->") == sum(len(t.sources) for t in WORKFLOW.transitions) + 2


def test_guard_data_is_cleaned_from_form_strings():
    cleaned, errors = clean_guard_data(_transition("maatwerkplan_vastgesteld"), {
        "offer": "  Deeltijdrooster ", "responsible_organisation_id": "7", "planned_start_on": "2026-04-01",
        "orientation_weeks": "", "unknown": "dropped",
    }, None)
    assert errors == {}
    assert cleaned == {"offer": "Deeltijdrooster", "responsible_organisation_id": 7, "planned_start_on": date(2026, 4, 1)}


def test_guard_errors_are_per_field_and_in_dutch():
    _, errors = clean_guard_data(_transition("naar_zorgtafel"), {"gesprek_report": " ", "route": "ophokken"}, None)
    assert errors == {"gesprek_report": "Verslag van het gesprek is verplicht.", "route": "Kies een van de mogelijkheden."}
    _, errors = clean_guard_data(_transition("terugval"), {"home_again_on": "31-02-2026"}, "")
    assert set(errors) == {"home_again_on", "reason"}


def test_a_new_state_and_clock_validate_by_data_alone():
    """The shape the proof test (tests/workflows/test_extra_state.py) builds on."""
    pv = ClockKind("pv", "Proces-verbaal", "Binnen een maand na het eerste verhoor.", rule="config",
                   start="het eerste verhoor", ladder="state")
    states = WORKFLOW.states[:-1] + (State("verhoor", "Verhoor", clock="pv"), WORKFLOW.states[-1])
    into = Transition("naar_verhoor", ("gesprek",), "verhoor", "Naar verhoor")
    back = Transition("verhoor_klaar", ("verhoor",), "zorgtafel", "Verhoor afgerond")
    workflow = _broken(states=states, clocks=WORKFLOW.clocks + (pv,),
                       transitions=WORKFLOW.transitions + (into, back))
    validate(workflow, {**RULES, "pv": ClockRule("pv", "calendar_months", 1)}, LADDERS)
    _refused(workflow, "add \\[clock.pv\\]")

