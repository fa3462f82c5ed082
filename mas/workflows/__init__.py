"""The case flow as data (definition, roles, vocabulary) and the one Machine built from it.

`transitions` is imported only when a case is fired (`machine`, `next_state`, `MachineError`):
a command that never fires one (`mas tick`, `mas --help`) does not pay for it.
"""

from mas.workflows.definition import WORKFLOW, ClockEffect, ClockKind, GuardField, State, Transition, Workflow
from mas.workflows.machine import WorkflowDefinitionError, machine, next_state, to_mermaid, validate
from mas.workflows.roles import (
    DIRECTORS,
    LADDER_RECIPIENTS,
    RECIPIENT_LABELS,
    ROLE_LABELS,
    SYSTEM,
    TEAM_ROLES,
    Recipient,
    Role,
)

__all__ = ["DIRECTORS", "LADDER_RECIPIENTS", "RECIPIENT_LABELS", "ROLE_LABELS", "SYSTEM", "TEAM_ROLES", "WORKFLOW",
           "ClockEffect", "ClockKind", "GuardField", "MachineError", "Recipient", "Role", "State", "Transition",
           "Workflow", "WorkflowDefinitionError", "machine", "next_state", "to_mermaid", "validate"]


def __getattr__(name: str):
    if name == "MachineError":
        from transitions import MachineError

        return MachineError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
