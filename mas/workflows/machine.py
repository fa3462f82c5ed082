"""The one `transitions` Machine for all cases, built from the workflow data once.

The Machine holds no models (model=None): a case is fired through a tiny per-call token,
never registered, so nothing accumulates however many cases pass (see ARCHITECTURE.md).
"""

from __future__ import annotations

from collections import deque
from functools import cache, lru_cache

from transitions import Machine, MachineError

from mas.workflows.definition import WORKFLOW, Workflow


class WorkflowDefinitionError(ValueError):
    """The flow as written cannot run (unreachable state, exit from a final state, …)."""


class _Token:
    """Carries a case's state through one trigger call; transitions sets `.state`."""

    __slots__ = ("state",)

    def __init__(self, state: str):
        self.state = state


def validate(workflow: Workflow, clock_states: set[str]) -> None:
    """Refuse a flow that cannot run. Called at start-up and in tests."""
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
    seen, todo = {workflow.initial}, deque([workflow.initial])
    while todo:
        for nxt in edges.get(todo.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    for name in names:
        if name not in seen:
            problems.append(f"state {name!r} is unreachable")
    for name in known - final:
        reach, todo = {name}, deque([name])
        while todo:
            for nxt in edges.get(todo.popleft(), ()):
                if nxt not in reach:
                    reach.add(nxt)
                    todo.append(nxt)
        if not reach & final:
            problems.append(f"state {name!r} can never be closed")
    # Every open state owns a clock; every configured clock belongs to a state or the case.
    open_states = known - final
    for name in sorted(open_states - clock_states):
        problems.append(f"state {name!r} has no clock in config/clocks.toml")
    for name in sorted(clock_states - open_states):
        problems.append(f"clock {name!r} in config/clocks.toml belongs to no open state")
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
