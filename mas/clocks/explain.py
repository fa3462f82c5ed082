""""Why this date": a deadline's inputs, told in Dutch sentences."""

from __future__ import annotations

from datetime import date

from mas.clocks.calendar import SchoolCalendar
from mas.dates import nl_date, nl_moment


def explain(deadline, calendar: SchoolCalendar, region: str) -> list[str]:
    inputs = deadline.inputs or {}
    rule = inputs.get("rule", deadline.rule)
    start = date.fromisoformat(inputs["start"]) if "start" in inputs else deadline.started_on
    lines: list[str] = []
    if rule in ("school_days", "lrv", "planned_start"):
        n = inputs.get("n", 0)
        origin = {"lrv": "de eerste dag zonder onderwijs", "planned_start": "de geplande start van het aanbod"}.get(
            rule, "het begin van deze fase")
        lines.append(f"Start: {nl_date(start)} ({origin}); dat is dag 0.")
        lines.append(f"Termijn: {n} schooldagen in vakantieregio {inputs.get('region', region)}.")
        if "due_on" in inputs:
            due_on = date.fromisoformat(inputs["due_on"])
            skipped = [(d, why) for d, why in calendar.holidays_in(start, due_on, inputs.get("region", region))]
            if skipped:
                listed = "; ".join(f"{nl_date(d)} ({why})" for d, why in skipped[:12])
                more = f" en nog {len(skipped) - 12}" if len(skipped) > 12 else ""
                lines.append(f"Niet meegeteld (geen schooldag, weekenden niet genoemd): {listed}{more}.")
        for first, last in inputs.get("suspensions", []):
            until = nl_date(date.fromisoformat(last)) if last else "nog lopend"
            lines.append(f"Opgeschort van {nl_date(date.fromisoformat(first))} tot en met {until}: die schooldagen tellen niet.")
        if inputs.get("paused"):
            lines.append("De klok staat stil door een lopende opschorting; de einddatum volgt bij hervatten.")
        if inputs.get("uncovered"):
            lines.append("Let op: de schoolvakanties van dit schooljaar staan nog niet in de tabel.")
    elif rule in ("calendar_months", "thuiszitterspact"):
        months = inputs.get("months")
        origin = "de eerste dag zonder onderwijs" if rule == "thuiszitterspact" else "het begin van deze fase"
        lines.append(f"Start: {nl_date(start)} ({origin}).")
        lines.append(f"Termijn: {months} kalendermaanden; vakanties tellen mee en de klok wordt nooit opgeschort."
                     if rule == "thuiszitterspact" else f"Termijn: {months} kalendermaanden.")
    else:
        why = inputs.get("why", "vastgesteld")
        reason = inputs.get("reason")
        lines.append(f"Datum {why}" + (f", reden: {reason}." if reason else "."))
    if deadline.due_at is not None:
        lines.append(f"Eindigt: {nl_moment(deadline.due_at)}.")
    if "calendar" in inputs:
        lines.append(f"Berekend met kalenderversie {inputs['calendar']}.")
    return lines
