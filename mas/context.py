"""What every service call needs besides the connection: settings, calendar, workflow.

Built once per process (web app, scheduler, CLI, bench) and passed in; nothing global.
"""

from __future__ import annotations

from dataclasses import dataclass

from mas.clocks.calendar import SchoolCalendar
from mas.clocks.ladder import Ladders, load_ladders
from mas.settings import Settings
from mas.workflows import WORKFLOW, Workflow, validate


@dataclass(frozen=True, eq=False)
class ServiceContext:
    settings: Settings
    calendar: SchoolCalendar
    ladders: Ladders
    workflow: Workflow = WORKFLOW


def make_context(settings: Settings, workflow: Workflow = WORKFLOW) -> ServiceContext:
    """Load the calendar and refuse to start on a flow that cannot run."""
    validate(workflow, set(settings.clocks.states))
    return ServiceContext(
        settings=settings,
        calendar=SchoolCalendar.from_config(settings.config_dir),
        ladders=load_ladders(settings.config_dir),
        workflow=workflow,
    )
