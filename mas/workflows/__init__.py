"""The case flow as data (definition, roles, vocabulary) and the one Machine built from it."""

from mas.workflows.definition import WORKFLOW, ClockEffect, ClockKind, GuardField, State, Transition, Workflow
from mas.workflows.machine import MachineError, WorkflowDefinitionError, machine, next_state, to_mermaid, validate
from mas.workflows.roles import DIRECTORS, ROLE_LABELS, SYSTEM, TEAM_ROLES, Recipient, Role

__all__ = ["DIRECTORS", "ROLE_LABELS", "SYSTEM", "TEAM_ROLES", "WORKFLOW", "ClockEffect", "ClockKind", "GuardField",
           "MachineError", "Recipient", "Role", "State", "Transition", "Workflow", "WorkflowDefinitionError",
           "machine", "next_state", "to_mermaid", "validate"]
