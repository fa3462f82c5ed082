"""The workflow as an SVG drawn on the server from the workflow data: no outside service,
no script. States in a row; forward moves straight, backward moves arc below, closing
moves arc above (dashed)."""

from __future__ import annotations

from markupsafe import Markup, escape

from mas.workflows.definition import Workflow

BOX_W, BOX_H, GAP, TOP = 130, 44, 46, 70


def workflow_svg(workflow: Workflow) -> Markup:
    names = [s.name for s in workflow.states]
    x = {name: 20 + i * (BOX_W + GAP) for i, name in enumerate(names)}
    width = 40 + len(names) * (BOX_W + GAP) - GAP
    height = TOP + BOX_H + 110
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        'aria-labelledby="wf-title wf-desc" class="workflow-diagram">',
        '<title id="wf-title">Het proces van een thuiszitterszaak</title>',
        '<desc id="wf-desc">Fasen van links naar rechts; terugstappen onder de fasen, afsluiten boven de fasen. '
        'De tabel onder het diagram noemt elke overgang.</desc>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="wf-arrowhead"/></marker></defs>',
    ]
    below, above = 0, 0
    for t in workflow.transitions:
        for source in t.sources:
            sx, dx = x[source], x[t.dest]
            if dx == sx + BOX_W + GAP:
                y = TOP + BOX_H / 2
                parts.append(f'<line x1="{sx + BOX_W}" y1="{y}" x2="{dx}" y2="{y}" class="wf-edge" marker-end="url(#arrow)"/>')
            elif dx < sx:
                below += 1
                depth = TOP + BOX_H + 24 + 30 * below
                parts.append(f'<path d="M {sx + BOX_W / 2} {TOP + BOX_H} C {sx + BOX_W / 2} {depth}, {dx + BOX_W / 2} '
                             f'{depth}, {dx + BOX_W / 2} {TOP + BOX_H}" class="wf-edge wf-back" marker-end="url(#arrow)"/>')
                # A cubic with both controls at `depth` bottoms out at 3/4 of it: the label sits just below.
                lowest = TOP + BOX_H + 0.75 * (depth - TOP - BOX_H)
                parts.append(f'<text x="{(sx + dx + BOX_W) / 2}" y="{lowest + 14}" class="wf-label">'
                             f'{escape(t.label.split(":")[0])}</text>')
            else:
                above += 1
                lift = TOP - 14 - 9 * (above % 5)
                parts.append(f'<path d="M {sx + BOX_W / 2} {TOP} C {sx + BOX_W / 2} {lift}, {dx + BOX_W / 2} {lift}, '
                             f'{dx + BOX_W / 2} {TOP}" class="wf-edge wf-close" marker-end="url(#arrow)"/>')
    for state in workflow.states:
        cls = "wf-state wf-final" if state.is_final else "wf-state"
        parts.append(f'<rect x="{x[state.name]}" y="{TOP}" width="{BOX_W}" height="{BOX_H}" rx="8" class="{cls}"/>')
        parts.append(f'<text x="{x[state.name] + BOX_W / 2}" y="{TOP + BOX_H / 2 + 5}" class="wf-name">'
                     f'{escape(state.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
