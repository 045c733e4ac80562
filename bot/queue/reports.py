"""Figures for supervisors, per day and service: bookings, no-shows, walk-ins, and the waits
from check-in to call and from call to done (average and 90th percentile), as text, a chart
image, CSV and XLSX."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.i18n import Translator
from bot.queue import rendering
from bot.queue.models import (
    BOOKED,
    CANCELLED,
    KIND_BOOKED,
    KIND_WALKIN,
    QueueBooking,
    QueueSlot,
)
from bot.queue.service import capacity, config_of, slot_starts

COLUMNS = ("day", "service", "bookings", "no_shows", "walk_ins", "served",
           "wait_avg_min", "wait_p90_min", "service_avg_min", "service_p90_min")


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (what a clerk can check by hand on a sorted list)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _avg(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class Row:
    day: date
    service_id: str
    bookings: int = 0
    no_shows: int = 0
    walk_ins: int = 0
    served: int = 0
    waits: list[float] = field(default_factory=list)  # minutes, check-in to call
    services: list[float] = field(default_factory=list)  # minutes, call to done

    def figures(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return round(value, 1) if value is not None else None

        return {
            "day": self.day.isoformat(), "service": self.service_id,
            "bookings": self.bookings, "no_shows": self.no_shows, "walk_ins": self.walk_ins,
            "served": self.served,
            "wait_avg_min": rounded(_avg(self.waits)),
            "wait_p90_min": rounded(percentile(self.waits, 0.9)),
            "service_avg_min": rounded(_avg(self.services)),
            "service_p90_min": rounded(percentile(self.services, 0.9)),
        }


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 60


def build(session: Session, *, start: date, end: date, today: date) -> list[Row]:
    """One row per day and service in [start, end]. A no-show is a booking of a day already
    over (before ``today``) that never checked in."""
    rows: dict[tuple[date, str], Row] = {}
    bookings = session.exec(
        select(QueueBooking)
        .where(QueueBooking.day >= start, QueueBooking.day <= end,
               QueueBooking.status != CANCELLED)
        .order_by(QueueBooking.day, QueueBooking.service_id)
    ).all()
    for b in bookings:
        row = rows.setdefault((b.day, b.service_id), Row(b.day, b.service_id))
        if b.kind == KIND_BOOKED:
            row.bookings += 1
            if b.status == BOOKED and b.day < today:
                row.no_shows += 1
        elif b.kind == KIND_WALKIN:
            row.walk_ins += 1
        wait = _minutes(b.checked_in_at, b.called_at)
        if wait is not None:
            row.waits.append(wait)
        served = _minutes(b.called_at, b.done_at)
        if served is not None:
            row.served += 1
            row.services.append(served)
    return list(rows.values())


@dataclass(frozen=True)
class SlotLine:
    """One slot of one service on a day, as the console's queue page shows it."""

    service_id: str
    start: str
    regular_seats: int
    priority_seats: int
    taken_regular: int
    taken_priority: int
    closed: bool
    arrived: int  # of its bookings, those who checked in (or got further)

    @property
    def seats(self) -> int:
        return self.regular_seats + self.priority_seats

    @property
    def taken(self) -> int:
        return self.taken_regular + self.taken_priority


def day_slots(session: Session, rt: Any, day: date, service_ids: list[str]) -> list[SlotLine]:
    """Every booking slot of ``day`` of the bookable services among ``service_ids`` (in the
    order of office.yaml's queue section, then by time): seats, seats taken, priority apart,
    closed or not, and how many of its bookings came."""
    config = config_of(rt)
    if config is None:
        return []
    services = [sid for sid in config.services if sid in service_ids]
    starts = slot_starts(rt, day)
    if not services or not starts:
        return []
    rows = {
        (r.service_id, r.start): r for r in session.exec(
            select(QueueSlot).where(QueueSlot.day == day,
                                    col(QueueSlot.service_id).in_(services))
        ).all()
    }
    arrived = dict(
        ((sid, start), n) for sid, start, n in session.exec(
            select(QueueBooking.service_id, QueueBooking.start, func.count())
            .where(QueueBooking.day == day, col(QueueBooking.service_id).in_(services),
                   QueueBooking.kind == KIND_BOOKED,
                   col(QueueBooking.checked_in_at).is_not(None))
            .group_by(QueueBooking.service_id, QueueBooking.start)
        ).all()
    )
    lines = []
    for sid in services:
        regular, priority = capacity(rt, sid)
        for start in starts:
            row = rows.get((sid, start))
            lines.append(SlotLine(
                service_id=sid, start=start, regular_seats=regular, priority_seats=priority,
                taken_regular=row.taken_regular if row else 0,
                taken_priority=row.taken_priority if row else 0,
                closed=bool(row and row.closed), arrived=arrived.get((sid, start), 0),
            ))
    return lines


def render_text(rt: Any, rows: list[Row], tr: Translator, start: date, end: date) -> str:
    _ = tr.gettext
    period = rendering.day_label(tr, start) if start == end else (
        f"{rendering.short_day(tr, start)} - {rendering.short_day(tr, end)}")
    lines = [_("<b>Queue figures</b>, {period}").format(period=period)]
    if not rows:
        lines.append(_("No visits in this period."))
        return "\n".join(lines)

    def minutes(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    for row in rows:
        f = row.figures()
        lines += [
            "",
            f"<b>{rendering.escape(rendering.service_name(rt, row.service_id, tr.locale))}</b>"
            + (f" ({rendering.short_day(tr, row.day)})" if start != end else ""),
            _("Bookings {bookings}, no-shows {no_shows}, walk-ins {walk_ins}, served "
              "{served}").format(**f),
            _("Wait from check-in to call: average {avg} min, 90% within {p90} min").format(
                avg=minutes(f["wait_avg_min"]), p90=minutes(f["wait_p90_min"])),
            _("At the counter: average {avg} min, 90% within {p90} min").format(
                avg=minutes(f["service_avg_min"]), p90=minutes(f["service_p90_min"])),
        ]
    return "\n".join(lines)


def to_csv(rows: list[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.figures().items()})
    return out.getvalue().encode("utf-8")


def to_xlsx(rows: list[Row]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "queue"
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.figures()[c] for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render_chart(rt: Any, rows: list[Row], tr: Translator) -> bytes:
    """Bars of bookings, no-shows and walk-ins per service, and the average wait. Blocking
    (matplotlib): handlers run it in a thread."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    _ = tr.gettext
    totals: dict[str, Row] = {}
    for row in rows:
        total = totals.setdefault(row.service_id, Row(row.day, row.service_id))
        total.bookings += row.bookings
        total.no_shows += row.no_shows
        total.walk_ins += row.walk_ins
        total.waits += row.waits
    names = [rendering.service_name(rt, sid, tr.locale)[:18] for sid in totals]
    figure = Figure(figsize=(8, 4.5), dpi=100)
    bars, waits = figure.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    positions = range(len(names))
    width = 0.27
    for offset, (label, values) in enumerate((
        (_("Bookings"), [t.bookings for t in totals.values()]),
        (_("No-shows"), [t.no_shows for t in totals.values()]),
        (_("Walk-ins"), [t.walk_ins for t in totals.values()]),
    )):
        bars.bar([p + (offset - 1) * width for p in positions], values, width, label=label)
    bars.set_xticks(list(positions), names, rotation=30, ha="right", fontsize=8)
    bars.legend(fontsize=8)
    bars.set_title(_("Visits"))
    waits.barh(names, [_avg(t.waits) or 0 for t in totals.values()], color="#888")
    waits.set_title(_("Average wait (min)"))
    waits.tick_params(labelsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
