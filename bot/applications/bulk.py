"""Bulk status updates from a CSV file (tracking_number,status,note)."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.applications.errors import ApplicationError
from bot.applications.service import change_status
from bot.core.i18n import N_
from bot.core.runtime import Runtime

log = logging.getLogger(__name__)


# --- bulk updates from a CSV file (tracking_number,status,note) -------------------------------

MAX_CSV_ROWS = 10_000
BULK_CHUNK = 200


class CsvProblem(Exception):
    """The file as a whole cannot be read; args[0] is the (translatable) reason."""


def read_status_csv(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each non-empty row; the header names the columns."""
    if b"\x00" in data:
        raise CsvProblem(N_("This file is not a CSV text file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvProblem(
            N_("This file is not UTF-8 text. Save it as 'CSV UTF-8' and send it again.")
        ) from None
    first_line = text.split("\n", 1)[0]
    # Spreadsheets set to Indonesian save CSV with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        if "tracking_number" not in header or "status" not in header:
            raise CsvProblem(N_("The first line must be the header: tracking_number,status,note"))
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            cells = [cell.strip() for cell in row] + [""] * (len(header) - len(row))
            rows.append((reader.line_num, dict(zip(header, cells, strict=False))))
            if len(rows) > MAX_CSV_ROWS:
                raise CsvProblem(N_("Too many rows: at most 10,000 per file."))
    except csv.Error:
        raise CsvProblem(N_("This file is not a valid CSV file.")) from None
    return rows


@dataclass
class BulkReport:
    applied: int = 0
    # (line number, the reason; None when the row failed for a reason of ours, not the data)
    refused: list[tuple[int, ApplicationError | None]] = field(default_factory=list)


def bulk_update(
    rt: Runtime, data: bytes, *, actor_id: int | None, now: datetime | None = None
) -> BulkReport:
    """Apply every row of a status CSV: a bad row is refused alone and the others stand.

    Each row runs in its own savepoint, committed in chunks: one commit per row would make a
    10,000-row file crawl on SQLite, one commit for the file would hold the write lock too long.
    Raises CsvProblem when the file itself is unreadable.
    """
    report = BulkReport()
    rows = read_status_csv(data)
    for start in range(0, len(rows), BULK_CHUNK):
        with rt.db.session() as session:
            for line, row in rows[start : start + BULK_CHUNK]:
                try:
                    with session.begin_nested():
                        change_status(
                            session,
                            rt,
                            tracking_number=row.get("tracking_number", ""),
                            status=row.get("status", "").lower().replace(" ", "_"),
                            note=row.get("note") or None,
                            actor_id=actor_id,
                            source="csv",
                            now=now,
                        )
                    report.applied += 1
                except ApplicationError as err:
                    report.refused.append((line, err))
                except Exception:  # noqa: BLE001 - reported as refused; the rest goes on
                    log.exception("CSV row %s could not be saved", line)
                    report.refused.append((line, None))
    return report
