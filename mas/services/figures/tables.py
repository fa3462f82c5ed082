"""A figure as a table: its columns, its rows, and how it leaves the team (CSV, XLSX).

Every dashboard panel and every document is made of these tables; the page draws a chart
beside each and the exports write them. What leaves the team has its small counts
suppressed: a count from 1 to `small_count - 1` becomes "< 5", and a percentage or a day
figure computed over 1 to `small_count - 1` cases (a vsv percentage over fewer than five
leavers) is not shown.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

COUNT, PERCENT, DAYS, TEXT, DATE = "count", "percent", "days", "text", "date"


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = COUNT  # count | percent | days | text | date
    base: int | None = None  # percent/days: the index of the count column it was computed over


@dataclass
class Table:
    key: str  # stable, in URLs: /dashboard/export/<key>.csv
    title: str
    columns: tuple[Column, ...]
    rows: list[list[Any]] = field(default_factory=list)
    chart: str | None = "bar"  # bar | stacked | line | None
    note: str = ""  # how the figure is counted, and from which data
    series_from: int = 1  # the chart's series are the columns from this index on
    chart_series: tuple[int, ...] = ()  # or exactly these columns
    label_columns: tuple[int, ...] = (0,)  # the columns whose values name a bar or point
    percent_rows: dict[int, int] = field(default_factory=dict)  # a row of percentages -> the row of its base

    def kind_of(self, row: int, column: int) -> str:
        if row in self.percent_rows and column > 0:
            return PERCENT
        return self.columns[column].kind

    def chart_columns(self) -> list[int]:
        if self.chart_series:
            return list(self.chart_series)
        return [i for i, c in enumerate(self.columns) if i >= self.series_from and c.kind in (COUNT, PERCENT, DAYS)]

    def text_alternative(self) -> str:
        """A sentence per row: what a screen reader says instead of the chart."""
        parts = []
        for row in self.rows:
            values = ", ".join(f"{self.columns[i].label}: {shown(row[i], self.columns[i].kind)}"
                               for i in range(1, len(self.columns)))
            parts.append(f"{row[0]}: {values}")
        return f"{self.title}. " + ("; ".join(parts) if parts else "Geen gegevens in deze periode.")


def shown(value: Any, kind: str) -> str:
    """A cell as the page shows it inside the team (no suppression)."""
    if value is None:
        return "–"
    if kind == PERCENT:
        return f"{value:.1f}%".replace(".", ",")
    if kind == DAYS and isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def suppressed(table: Table, small_count: int) -> list[list[Any]]:
    """The rows as they may leave the team: small counts "< 5", figures over few cases hidden."""
    label = f"< {small_count}"
    out = []
    for r, row in enumerate(table.rows):
        cells = []
        for i, column in enumerate(table.columns):
            value = row[i]
            if r in table.percent_rows and i > 0:
                base = table.rows[table.percent_rows[r]][i]
                few = isinstance(base, int) and 0 < base < small_count
                cells.append(f"n.v.t. ({label})" if few and value is not None else
                             None if value is None else round(value, 1))
            elif column.kind == COUNT and isinstance(value, int) and 0 < value < small_count:
                cells.append(label)
            elif column.kind in (PERCENT, DAYS) and column.base is not None and isinstance(row[column.base], int) \
                    and 0 < row[column.base] < small_count and value is not None:
                cells.append(f"n.v.t. ({label})")
            elif column.kind == PERCENT and value is not None:
                cells.append(round(value, 1))
            elif column.kind == DAYS and isinstance(value, float):
                cells.append(round(value, 1))
            else:
                cells.append(value)
        out.append(cells)
    return out


def to_csv(table: Table, small_count: int) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")  # Dutch Excel opens ; at once
    writer.writerow([c.label for c in table.columns])
    for row in suppressed(table, small_count):
        writer.writerow(["" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v) for v in row])
    return buffer.getvalue()


def to_xlsx(tables: list[Table], small_count: int, *, title: str = "") -> bytes:
    """One sheet per table (Excel's 31-character sheet names), the title and note above it."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in tables:
        name = _sheet_name(table.title, used)
        sheet = book.create_sheet(name)
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        if table.note:
            sheet.append([table.note])
        sheet.append([])
        sheet.append([c.label for c in table.columns])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in suppressed(table, small_count):
            sheet.append(["" if v is None else v for v in row])
        for i, column in enumerate(table.columns):
            sheet.column_dimensions[_letter(i)].width = max(12, min(50, len(column.label) + 4))
    if title:
        book.properties.title = title
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _sheet_name(title: str, used: set[str]) -> str:
    base = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28] or "Tabel"
    name, n = base, 2
    while name in used:
        name, n = f"{base[:25]} {n}", n + 1
    used.add(name)
    return name
