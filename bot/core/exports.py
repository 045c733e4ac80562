"""Tables for the office's spreadsheet: CSV that no spreadsheet runs as a formula, and XLSX
with typed columns (dates as dates, numbers as numbers) that opens right in any locale.

An Indonesian Excel reads a CSV with ';' and a decimal comma, so a plain CSV opens as one
column of text there; the XLSX is what the chat sends by default. Every export of the project
(complaints, IKM responses and summary, the audit log) goes through here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

Kind = Literal["text", "int", "date", "datetime", "decimal2", "decimal4"]

# A spreadsheet runs a cell starting with one of these as a formula (or, for tab and CR, as
# the start of one after it trims them): "=HYPERLINK(...)" in a complaint would be a link that
# leaks the sheet, "=cmd|..." worse.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_XLSX_FORMATS = {
    "int": "0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
    "decimal2": "0.00",
    "decimal4": "0.0000",
}

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"


def safe_cell(value: str) -> str:
    """Text a spreadsheet shows as text: a leading formula character gets an apostrophe (the
    spreadsheet's own "this is text" mark, OWASP's advice for CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv_value(value: Any, kind: Kind) -> str | int:
    if value is None or value == "":
        return ""
    if kind == "datetime" and isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if kind == "decimal2":
        return f"{float(value):.2f}"
    if kind == "decimal4":
        return f"{float(value):.4f}"
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    return safe_cell(str(value))


def csv_lines(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header and then one CSV line per row, as they are written (for long exports)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    writer.writerow([safe_cell(c.name) for c in columns])
    yield flush()
    for row in rows:
        writer.writerow([_csv_value(v, c.kind) for c, v in zip(columns, row, strict=True)])
        yield flush()


def to_csv(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> str:
    return "".join(csv_lines(columns, rows))


def _xlsx_value(value: Any, kind: Kind) -> Any:
    if value is None or value == "":
        return None
    if kind == "datetime" and isinstance(value, datetime):
        # Excel has no time zones: the wall-clock time the caller chose (office time or UTC).
        return value.replace(tzinfo=None)
    if kind == "date" and isinstance(value, date):
        return value
    if kind in ("decimal2", "decimal4"):
        return float(value) if isinstance(value, Decimal | int | float) else value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value)


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its name (31 characters at most), columns and rows."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]


def to_xlsx(columns: Sequence[Column], rows: Iterable[Sequence[Any]], *, sheet: str) -> bytes:
    """One sheet, a bold header row, typed cells; text cells are stored as text, never as a
    formula, whatever they start with."""
    return xlsx_book([Sheet(sheet, columns, rows)])


def xlsx_book(sheets: Sequence[Sheet]) -> bytes:
    """A workbook of several sheets, each as ``to_xlsx`` writes one."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = book.create_sheet(title=sheet.name[:31])
        header = []
        for column in sheet.columns:
            cell = WriteOnlyCell(ws, value=column.name)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            cells = []
            for column, raw in zip(sheet.columns, row, strict=True):
                value = _xlsx_value(raw, column.kind)
                cell = WriteOnlyCell(ws, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # openpyxl would store "=..." as a formula
                elif column.kind in _XLSX_FORMATS and value is not None:
                    cell.number_format = _XLSX_FORMATS[column.kind]
                cells.append(cell)
            ws.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
