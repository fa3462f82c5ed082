"""Template filters and helpers: dates in Dutch (Europe/Amsterdam), counts with the right
plural, and what a transition recorded, labelled as its form labels it."""

from __future__ import annotations

from datetime import date, datetime

from mas.dates import nl_date, nl_moment, plural


def format_value(field, value, orgs: dict) -> str:
    """One recorded value as the person who typed it would read it back."""
    if field.kind == "date":
        return nl_date(value)
    if field.kind == "choice":
        return (field.choices or {}).get(value, str(value))
    if field.kind == "organisation":
        org = orgs.get(value)
        return org.name if org is not None else f"organisatie {value} (bestaat niet meer)"
    return str(value)


def transition_facts(event, workflow, orgs: dict) -> list[tuple[str, str]]:
    """(label, value) for every field a transition event recorded."""
    data = event.data or {}
    transition = workflow.transition(data.get("trigger", ""))
    if transition is None:
        return []
    return [(f.label, format_value(f, data[f.name], orgs)) for f in transition.fields
            if data.get(f.name) not in (None, "")]


def case_facts(events, workflow, orgs: dict) -> list[dict]:
    """The latest value of every field the case's transitions recorded, oldest step first."""
    latest: dict[str, dict] = {}
    for event in sorted(events, key=lambda e: (e.at, e.id)):
        if event.kind != "overgang":
            continue
        transition = workflow.transition((event.data or {}).get("trigger", ""))
        for label, value in transition_facts(event, workflow, orgs):
            latest.pop(label, None)  # keep the order of the last time it was recorded
            latest[label] = {"label": label, "value": value, "at": event.at,
                             "during": transition.label if transition else ""}
    return list(latest.values())


def clock_changes(event, workflow) -> list[str]:
    """What a transition did to the clocks, in words (started with their due moment, stopped)."""
    clocks = (event.data or {}).get("clocks") or {}
    lines = []
    for started in clocks.get("started", []):
        due = started.get("due_at")
        lines.append(f"Klok gestart: {workflow.clock_label(started['kind'])}"
                     + (f", uiterlijk {nl_moment(due)}" if due else ", staat stil door een opschorting"))
    lines += [f"Klok gestopt: {workflow.clock_label(kind)}" for kind in clocks.get("stopped", [])]
    if clocks.get("closed"):
        lines.append(f"{plural(clocks['closed'], 'lopende klok', 'lopende klokken')} afgesloten")
    if clocks.get("steps_cancelled"):
        lines.append(f"{plural(clocks['steps_cancelled'], 'open stap', 'open stappen')} vervallen")
    return lines


def in_sentence(label: str) -> str:
    """A label inside a sentence: 'School (DUO)' -> 'school (DUO)', but 'GGD jeugdarts' stays."""
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        return label[0].lower() + label[1:]
    return label


def register_filters(app) -> None:
    from mas.clocks.explain import explain

    app.jinja_env.filters["zip"] = lambda left, right: list(zip(left, right))
    app.jinja_env.filters["in_sentence"] = in_sentence
    from mas.services.inputs import FIELD_LIMITS

    app.jinja_env.globals.update(field_limits=FIELD_LIMITS, explain=explain, transition_facts=transition_facts, case_facts=case_facts,
                                 clock_changes=clock_changes, plural=plural)

    @app.template_filter("nl_date")
    def _nl_date(value):
        if value is None:
            return "—"
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return nl_date(value)

    @app.template_filter("nl_moment")
    def _nl_moment(value):
        if value is None:
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return nl_moment(value)
