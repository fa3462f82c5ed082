"""The case flow as data (definition) and the one Machine built from it (machine)."""

from mas.workflows.definition import WORKFLOW, Transition, Workflow
from mas.workflows.machine import machine, next_state, to_mermaid, validate

__all__ = ["WORKFLOW", "Transition", "Workflow", "machine", "next_state", "to_mermaid", "validate"]
