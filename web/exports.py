"""Tables as downloads: CSV for Excel (UTF-8 with a BOM, or Excel shows mojibake) and XLSX
(openpyxl), with a Content-Disposition that carries the Chinese file name (RFC 6266/5987:
an ASCII fallback plus filename*=UTF-8'')."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Table:
    title: str  # the sheet's name (XLSX), ≤ 31 characters
    headers: Sequence[str]  # "派车单号 (order)"
    rows: Sequence[Sequence[Any]]
    total_rows: int = 0  # the last n rows are totals: bold in XLSX


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return "" if value is None else value


def csv_bytes(tables: Sequence[Table]) -> bytes:
    """One CSV: the tables one after the other (the header once; they share columns)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(tables[0].headers if tables else [])
    for table in tables:
        for row in table.rows:
            writer.writerow([_cell(v) for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    base = title[:28] or "Sheet"
    name, n = base, 2
    while name in used:
        name, n = f"{base[:26]}({n})", n + 1
    used.add(name)
    return name


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """One sheet per table: a bold header row, frozen; numbers stay numbers."""
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in tables or [Table("Sheet", [], [])]:
        sheet = book.create_sheet(_sheet_title(table.title, used))
        sheet.append(list(table.headers))
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
        bold = Font(bold=True)
        for cell in sheet[1]:
            cell.font = bold
        for index in range(len(table.rows) - table.total_rows + 2, len(table.rows) + 2):
            for cell in sheet[index]:
                cell.font = bold
        sheet.freeze_panes = "A2"
        for column, header in enumerate(table.headers, start=1):
            width = max(len(str(header)) + 2, 10)
            sheet.column_dimensions[get_column_letter(column)].width = min(width, 40)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def attachment(filename: str, ascii_fallback: str) -> dict[str, str]:
    """Content-Disposition for a download named `filename` (may be Chinese)."""
    return {"Content-Disposition":
            f"attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{quote(filename)}"}
