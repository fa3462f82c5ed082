""""Why this date": a deadline's inputs, told in Dutch sentences a person can check by hand.

Everything said here comes from the deadline row (its rule, day 0, amount, region, calendar
version, suspensions, where day 0 came from and, after a restart, the earlier period) and
from the workflow's words for the clock kind and its fields.
"""

from __future__ import annotations

from datetime import date

from mas.clocks.calendar import SchoolCalendar
from mas.clocks.rules import CALENDAR_MONTHS, SCHOOL_DAYS
from mas.dates import nl_date, nl_day_month, nl_moment, nl_month, plural


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def origin_phrase(clock, inputs: dict, workflow) -> str:
    """What day 0 was, in words: the clock kind's own start, or the field it was taken from."""
    anchor = inputs.get("anchor")
    if clock is None:
        return "de startdatum"
    if not anchor or anchor == "entered" or clock.start_field == anchor:
        return clock.start
    label = workflow.field_label(anchor)  # a form label ("Weer thuis sinds"), within a sentence here
    return label[:1].lower() + label[1:]


def _why_closed(calendar: SchoolCalendar, day: date, region: str) -> str:
    closed = calendar.closed_on(day, region)
    if closed is None:
        return ""
    name, holiday_region = closed
    if holiday_region is not None:
        return f"in de {name}"
    if name == "weekend":
        return "in het weekend"
    return f"op {name}, geen schooldag"


def _day_zero_lines(calendar: SchoolCalendar, start: date, region: str, origin: str) -> list[str]:
    day_zero = calendar.add_school_days(start, 0, region)
    if day_zero == start:
        return [f"Dag 0: {nl_date(start)} ({origin})."]
    return [f"{_sentence(origin)}: {nl_date(start)}, {_why_closed(calendar, start, region)}; "
            f"de telling begint op de eerstvolgende schooldag, {nl_date(day_zero)} (dag 0)."]


def _span_line(span) -> str:
    if span.first == span.last:
        what = f"{span.name}: {nl_date(span.first)}"
    else:
        what = f"{span.name}: {nl_day_month(span.first)} – {nl_day_month(span.last)}"
    if span.region:
        what = what.replace(f"{span.name}:", f"{span.name}, regio {span.region}:", 1)
    return what + (f", {plural(span.school_days, 'schooldag', 'schooldagen')}" if span.first != span.last else "")


def _school_day_lines(inputs: dict, start: date, region: str, calendar: SchoolCalendar, origin: str) -> list[str]:
    n = inputs.get("n", 0)
    lines = _day_zero_lines(calendar, start, region, origin)
    lines.append(f"Termijn: {plural(n, 'schooldag', 'schooldagen')} na dag 0, in vakantieregio {region}.")
    if "due_on" in inputs:
        spans = calendar.closed_spans(start, date.fromisoformat(inputs["due_on"]), region)
        if spans:
            lines.append("Niet meegeteld, naast de weekenden:")
            lines.extend(_span_line(span) for span in spans)
    for first, last in inputs.get("suspensions", []):
        until = nl_date(date.fromisoformat(last)) if last else "nog lopend"
        lines.append(f"Opgeschort van {nl_date(date.fromisoformat(first))} tot en met {until}: "
                     "die schooldagen tellen niet.")
    if inputs.get("paused"):
        lines.append("De klok staat stil door een lopende opschorting; de einddatum volgt bij hervatten.")
    if inputs.get("uncovered"):
        lines.append("Let op: de schoolvakanties van dit schooljaar staan nog niet in de tabel; "
                     "alleen weekenden en feestdagen zijn overgeslagen.")
    return lines


def _month_lines(inputs: dict, start: date, origin: str) -> list[str]:
    months = inputs.get("months", 0)
    lines = [f"Dag 0: {nl_date(start)} ({origin})."]
    due_on = date.fromisoformat(inputs["due_on"]) if "due_on" in inputs else None
    if due_on is not None:
        sum_text = (f"{nl_day_month(start)} + {plural(months, 'maand', 'maanden')} = "
                    f"{nl_day_month(due_on)} {due_on.year}")
        if due_on.day != start.day:
            sum_text += f" ({nl_month(due_on.month)} heeft geen {start.day} dagen)"
        lines.append(f"Termijn: {plural(months, 'kalendermaand', 'kalendermaanden')}: {sum_text}.")
    lines.append("Vakanties tellen mee; opschorten zet deze klok niet stil.")
    return lines


def _previous_lines(inputs: dict, workflow) -> list[str]:
    lines = []
    if inputs.get("corrected_from"):
        lines.append(f"De eerste dag zonder onderwijs is gecorrigeerd: eerst {nl_date(inputs['corrected_from'])}, "
                     f"nu {nl_date(inputs['start'])}. Wat eerder al gemeld of geëscaleerd is, blijft in het journaal.")
    previous = inputs.get("previous")
    if not previous:
        return lines
    transition = workflow.transition(inputs.get("trigger", ""))
    after = f" na '{transition.label}'" if transition is not None else ""
    return lines + [f"Dit is een nieuwe periode{after}. De vorige periode liep van "
                    f"{nl_date(previous['start'])} tot {nl_date(previous['until'])} "
                    f"({plural(previous['days'], 'dag', 'dagen')})."]


def explain(deadline, workflow, calendar: SchoolCalendar, region: str) -> list[str]:
    """ "Waarom deze datum?": the clock's purpose, day 0 and why, its rule, what did not count."""
    inputs = deadline.inputs or {}
    clock = workflow.clock(deadline.kind)
    rule = inputs.get("rule", deadline.rule)
    start = date.fromisoformat(inputs["start"]) if "start" in inputs else deadline.started_on
    lines: list[str] = [clock.explanation] if clock is not None else []
    lines += _previous_lines(inputs, workflow)
    origin = origin_phrase(clock, inputs, workflow)
    if rule == SCHOOL_DAYS:
        lines += _school_day_lines(inputs, start, inputs.get("region", region), calendar, origin)
    elif rule == CALENDAR_MONTHS:
        lines += _month_lines(inputs, start, origin)
    else:
        reason = inputs.get("reason")
        lines.append(f"Datum {inputs.get('why', 'vastgesteld')}" + (f"; reden: {reason}." if reason else "."))
    if deadline.due_at is not None:
        lines.append(f"Eindigt: {nl_moment(deadline.due_at)}.")
    if "calendar" in inputs:
        lines.append(f"Berekend met kalenderversie {inputs['calendar']}.")
    return lines
