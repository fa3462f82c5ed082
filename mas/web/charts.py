"""Charts as SVG, drawn on the server by pygal: no JavaScript, no outside assets.

pygal writes plain SVG with its styles inside; `js=[]` drops the tooltip script it would
otherwise fetch from a CDN, so a chart works offline and under the app's CSP. A chart is
shown as an <img> (its text alternative in `alt`, its table beside it), so the SVG's own
<style> applies inside the image and never touches the page.

Drawing is the slow part (tens of milliseconds a chart), so drawn charts are kept by the
digest of what they show: a page whose figures did not change draws nothing again.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import OrderedDict
from threading import Lock

from mas.services.figures.tables import COUNT, PERCENT, Table

_CACHE: OrderedDict[str, str] = OrderedDict()
_CACHE_SIZE = 512
_LOCK = Lock()
# Colours that stay apart for colour-blind readers (Okabe & Ito), dark enough on white.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999", "#F0E442")


def _pygal():
    """pygal, without the legacy import hook it appends to sys.meta_path for its map plugins
    (a finder with find_module only: every later import that reaches it warns, ImportWarning,
    and Python 3.12 dropped the fallback). mas draws no maps, so the hook is taken out."""
    import sys

    import pygal

    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != "pygal"]
    return pygal


def _style():
    _pygal()
    from pygal.style import Style

    return Style(background="#ffffff", plot_background="#ffffff", foreground="#222222", foreground_strong="#111111",
                 foreground_subtle="#666666", colors=COLOURS, font_family="sans-serif", label_font_size=12,
                 major_label_font_size=12, legend_font_size=12, value_font_size=11, title_font_size=14)


def _spec(table: Table) -> dict | None:
    columns = table.chart_columns()
    if table.chart is None or not columns or not table.rows:
        return None
    labels = [" ".join(str(row[i]) for i in table.label_columns) for row in table.rows]
    series = [(table.columns[i].label, [row[i] for row in table.rows]) for i in columns]
    if all(v in (None, 0) for _, values in series for v in values):
        return None  # nothing to draw: the table says "0" plainly
    return {"kind": table.chart, "labels": labels, "series": series,
            "integers": all(table.columns[i].kind == COUNT for i in columns),
            "percent": all(table.columns[i].kind == PERCENT for i in columns)}


def _draw(spec: dict) -> str:
    pygal = _pygal()

    kind = spec["kind"]
    cls = {"bar": pygal.Bar, "stacked": pygal.StackedBar, "line": pygal.Line}[kind]
    labels = spec["labels"]
    many = len(labels) > 6
    horizontal = kind == "bar" and len(labels) <= 12 and max(len(label) for label in labels) > 12
    if horizontal:
        cls = pygal.HorizontalBar
    legend_rows = -(-len(spec["series"]) // 2) if len(spec["series"]) > 1 else 0
    chart = cls(js=[], disable_xml_declaration=True, style=_style(), width=640, height=300 + 18 * legend_rows,
                show_legend=legend_rows > 0, legend_at_bottom=True, legend_at_bottom_columns=2,
                x_label_rotation=30 if many and not horizontal else 0, truncate_legend=45, truncate_label=32,
                print_values=False, include_x_axis=True, allow_interruptions=True, margin=12, min_scale=3,
                max_scale=8, explicit_size=False, pretty_print=False)
    if spec["integers"]:
        chart.value_formatter = lambda v: f"{v:.0f}"
    elif spec["percent"]:
        chart.value_formatter = lambda v: f"{v:.1f}%".replace(".", ",")
    chart.x_labels = spec["labels"]
    for name, values in spec["series"]:
        chart.add(name, values)
    return chart.render(is_unicode=True)


def chart_uri(table: Table) -> str | None:
    """The chart of a table as a data: URI for an <img>, or None when there is nothing to draw."""
    spec = _spec(table)
    if spec is None:
        return None
    key = hashlib.sha256(json.dumps(spec, default=str, sort_keys=True).encode()).hexdigest()
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    uri = "data:image/svg+xml;base64," + base64.b64encode(_draw(spec).encode()).decode()
    with _LOCK:
        _CACHE[key] = uri
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return uri
