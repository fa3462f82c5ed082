"""The one `transitions` Machine for all cases, built from the workflow data once.

The Machine holds no models (model=None): a case is fired through a tiny per-call token,
never registered, so nothing accumulates however many cases pass (see ARCHITECTURE.md).
"""

from __future__ import annotations

from collections import deque
from functools import cache, lru_cache
from typing import Collection, Mapping

from transitions import Machine, MachineError

from mas.workflows.definition import WORKFLOW, Workflow


class WorkflowDefinitionError(ValueError):
    """The flow as written cannot run (unreachable state, exit from a final state, …)."""


class _Token:
    """Carries a case's state through one trigger call; transitions sets `.state`."""

    __slots__ = ("state",)

    def __init__(self, state: str):
        self.state = state


CLOCK_RULES = ("config", "fixed")
CLOCK_ACTIONS = ("start", "stop", "restart")


def _graph_problems(workflow: Workflow) -> list[str]:
    names = [s.name for s in workflow.states]
    problems: list[str] = []
    if len(set(names)) != len(names):
        problems.append("duplicate state names")
    known = set(names)
    final = {s.name for s in workflow.states if s.is_final}
    if not final:
        problems.append("no final state")
    if workflow.initial not in known:
        problems.append(f"initial state {workflow.initial!r} is not a state")
    triggers = [t.trigger for t in workflow.transitions]
    if len(set(triggers)) != len(triggers):
        problems.append("duplicate triggers")
    for t in workflow.transitions:
        for state in (*t.sources, t.dest):
            if state not in known:
                problems.append(f"{t.trigger}: unknown state {state!r}")
        if final & set(t.sources):
            problems.append(f"{t.trigger}: leaves a final state")
        if not t.roles:
            problems.append(f"{t.trigger}: nobody may fire it")
    # Every state reachable from the initial one, and every open state can reach an end.
    edges: dict[str, set[str]] = {n: set() for n in known}
    for t in workflow.transitions:
        for s in t.sources:
            edges.setdefault(s, set()).add(t.dest)

    def reachable(start: str) -> set[str]:
        seen, todo = {start}, deque([start])
        while todo:
            for nxt in edges.get(todo.popleft(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    from_initial = reachable(workflow.initial)
    problems += [f"state {name!r} is unreachable" for name in names if name not in from_initial]
    problems += [f"state {name!r} can never be closed" for name in sorted(known - final) if not reachable(name) & final]
    return problems


def _clock_kind_problems(workflow: Workflow, clock_rules: Mapping[str, object], ladders: set[str]) -> list[str]:
    problems: list[str] = []
    names = [c.name for c in workflow.clocks]
    if len(set(names)) != len(names):
        problems.append("duplicate clock kinds")
    for c in workflow.clocks:
        where = f"clock kind {c.name!r}"
        for attribute in ("label", "explanation", "start"):
            if not (getattr(c, attribute) or "").strip():
                problems.append(f"{where} has no {attribute}")
        if c.rule not in CLOCK_RULES:
            problems.append(f"{where}: rule must be one of {', '.join(CLOCK_RULES)}")
        elif c.rule == "config" and c.name not in clock_rules:
            problems.append(f"{where} has no rule: add [clock.{c.name}] to config/clocks.toml")
        elif c.rule == "fixed" and c.name in clock_rules:
            problems.append(f"{where} is set by a person; [clock.{c.name}] in config/clocks.toml is never read")
        if c.milestone and c.ladder:
            problems.append(f"{where} is a milestone and so never escalates: it takes no ladder")
        elif not c.milestone and not c.ladder:
            problems.append(f"{where} needs a ladder in config/escalation.toml, or milestone = True")
        elif c.ladder and c.ladder not in ladders:
            problems.append(f"{where}: [ladder.{c.ladder}] is missing from config/escalation.toml")
    for name in sorted(set(clock_rules) - set(names)):
        problems.append(f"[clock.{name}] in config/clocks.toml belongs to no clock kind")
    for kind in (workflow.step_clock, workflow.doorzetten_clock, workflow.pact_clock):
        if workflow.clock(kind) is None:
            problems.append(f"unknown clock kind {kind!r}")
    return problems


def _clock_use_problems(workflow: Workflow) -> list[str]:
    problems: list[str] = []
    for s in workflow.states:
        kind = workflow.clock(s.clock) if s.clock else None
        if s.is_final and s.clock:
            problems.append(f"final state {s.name!r} has a clock")
        elif not s.is_final and not s.clock:
            problems.append(f"state {s.name!r} has no clock")
        elif s.clock and kind is None:
            problems.append(f"state {s.name!r}: unknown clock kind {s.clock!r}")
        elif kind is not None and kind.rule != "config":
            problems.append(f"state {s.name!r}: its clock must be computed (rule = 'config')")
    fields = {f.name: f for t in workflow.transitions for f in t.fields}
    effects = [("opening", e) for e in workflow.opening_clocks]
    effects += [(t.trigger, e) for t in workflow.transitions for e in t.clocks]
    for where, effect in effects:
        kind = workflow.clock(effect.clock)
        if kind is None:
            problems.append(f"{where}: unknown clock kind {effect.clock!r}")
        elif kind.rule != "config":
            problems.append(f"{where}: clock {effect.clock!r} is set by a person, not by the flow")
        if effect.action not in CLOCK_ACTIONS:
            problems.append(f"{where}: clock action must be one of {', '.join(CLOCK_ACTIONS)}")
        if effect.from_field and effect.from_field not in workflow.case_fields and (
                effect.from_field not in fields or fields[effect.from_field].kind != "date"):
            problems.append(f"{where}: day 0 {effect.from_field!r} is no date field")
    for t in workflow.transitions:
        for f in t.fields:
            problems += [f"{t.trigger}.{f.name}: not_before names no case field ({other!r})"
                         for other in f.not_before if other not in workflow.case_fields]
        entered = workflow.state_clock(t.dest)
        if entered is not None and entered.start_field and entered.start_field not in {f.name for f in t.fields}:
            problems.append(f"{t.trigger}: the clock of {t.dest!r} counts from {entered.start_field!r}, "
                            "which this transition does not ask for")
    return problems


def validate(workflow: Workflow, clock_rules: Mapping[str, object], ladders: Collection[str]) -> None:
    """Refuse a flow that cannot run. Called at start-up (make_context) and in tests.

    `clock_rules`: the [clock.*] rules of config/clocks.toml by clock kind; `ladders`: the
    [ladder.*] names of config/escalation.toml.
    """
    problems = (_graph_problems(workflow) + _clock_kind_problems(workflow, clock_rules, set(ladders))
                + _clock_use_problems(workflow))
    if problems:
        raise WorkflowDefinitionError("; ".join(problems))


@cache
def machine(workflow: Workflow = WORKFLOW) -> Machine:
    """Build the Machine once per workflow definition (and so once per process)."""
    return Machine(
        model=None,
        states=[s.name for s in workflow.states],
        transitions=[
            {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest} for t in workflow.transitions
        ],
        initial=workflow.initial,
        auto_transitions=False,
        send_event=False,
    )


@lru_cache(maxsize=1024)
def next_state(state: str, trigger: str, workflow: Workflow = WORKFLOW) -> str:
    """Where `trigger` takes a case in `state`; MachineError/KeyError when it cannot.

    The Machine's answer is a pure function of (state, trigger): it has no conditions and no
    callbacks (guards and side effects belong to the service layer), so it is asked once per
    pair and remembered. Refusals are exceptions, and so never remembered.
    """
    token = _Token(state)
    event = machine(workflow).events.get(trigger)
    if event is None:
        raise KeyError(trigger)
    event.trigger(token)
    return token.state


def to_mermaid(workflow: Workflow = WORKFLOW) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {workflow.initial}"]
    for t in workflow.transitions:
        for source in t.sources:
            lines.append(f"    {source} --> {t.dest}: {t.label}")
    for s in workflow.states:
        if s.is_final:
            lines.append(f"    {s.name} --> [*]")
    return "\n".join(lines) + "\n"


__all__ = ["MachineError", "WorkflowDefinitionError", "machine", "next_state", "to_mermaid", "validate"]
