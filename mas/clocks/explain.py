""""Why this date": a deadline's inputs, told in Dutch sentences."""

from __future__ import annotations

from datetime import date
from typing import Callable

from mas.clocks.calendar import SchoolCalendar
from mas.clocks.rules import CALENDAR_MONTHS, SCHOOL_DAYS
from mas.dates import nl_date, nl_moment


def origin_phrase(clock, inputs: dict, field_label: Callable[[str], str]) -> str:
    """What day 0 was, in words: the clock kind's own start, or the field it was taken from."""
    anchor = inputs.get("anchor")
    if not anchor or anchor == "entered" or clock is None:
        return clock.start if clock is not None else "de startdatum"
    if clock.start_field == anchor:
        return clock.start
    label = field_label(anchor)  # a form label ("Weer thuis sinds"), within a sentence here
    return label[:1].lower() + label[1:]


def explain(deadline, clock, calendar: SchoolCalendar, region: str,
            field_label: Callable[[str], str] = str) -> list[str]:
    """ "Waarom deze datum?": the clock's purpose, its day 0, its rule, what did not count.

    `clock` is the deadline's ClockKind (label, explanation, start); `field_label` names a
    field a day 0 was taken from.
    """
    inputs = deadline.inputs or {}
    rule = inputs.get("rule", deadline.rule)
    start = date.fromisoformat(inputs["start"]) if "start" in inputs else deadline.started_on
    lines: list[str] = [clock.explanation] if clock is not None else []
    origin = origin_phrase(clock, inputs, field_label)
    if rule == SCHOOL_DAYS:
        n = inputs.get("n", 0)
        lines.append(f"Start: {nl_date(start)} ({origin}); dat is dag 0.")
        lines.append(f"Termijn: {n} schooldagen in vakantieregio {inputs.get('region', region)}.")
        if "due_on" in inputs:
            due_on = date.fromisoformat(inputs["due_on"])
            skipped = list(calendar.holidays_in(start, due_on, inputs.get("region", region)))
            if skipped:
                listed = "; ".join(f"{nl_date(d)} ({why})" for d, why in skipped[:12])
                more = f" en nog {len(skipped) - 12}" if len(skipped) > 12 else ""
                lines.append(f"Niet meegeteld (geen schooldag, weekenden niet genoemd): {listed}{more}.")
        for first, last in inputs.get("suspensions", []):
            until = nl_date(date.fromisoformat(last)) if last else "nog lopend"
            lines.append(f"Opgeschort van {nl_date(date.fromisoformat(first))} tot en met {until}: "
                         "die schooldagen tellen niet.")
        if inputs.get("paused"):
            lines.append("De klok staat stil door een lopende opschorting; de einddatum volgt bij hervatten.")
        if inputs.get("uncovered"):
            lines.append("Let op: de schoolvakanties van dit schooljaar staan nog niet in de tabel.")
    elif rule == CALENDAR_MONTHS:
        lines.append(f"Start: {nl_date(start)} ({origin}).")
        lines.append(f"Termijn: {inputs.get('months')} kalendermaanden; vakanties tellen mee en opschorten "
                     "zet deze klok niet stil.")
    else:
        why = inputs.get("why", "vastgesteld")
        reason = inputs.get("reason")
        lines.append(f"Datum {why}" + (f", reden: {reason}." if reason else "."))
    if deadline.due_at is not None:
        lines.append(f"Eindigt: {nl_moment(deadline.due_at)}.")
    if "calendar" in inputs:
        lines.append(f"Berekend met kalenderversie {inputs['calendar']}.")
    return lines
