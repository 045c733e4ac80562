"""The complaint report for supervisors (with the complainants' satisfaction) and the XLSX or
CSV export."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from bot.complaints.deadlines import local_days_bounds
from bot.complaints.models import (
    Complaint,
)
from bot.complaints.render import format_day
from bot.complaints.satisfaction import Satisfaction, render_satisfaction, satisfaction_of
from bot.complaints.vocabulary import (
    ANONYMOUS,
    CONFIDENTIAL,
    DUPLICATE,
    REJECTED,
    STATUS_LABELS,
    STATUSES,
    category_of,
)
from bot.core.exports import Column, to_csv, to_xlsx
from bot.core.i18n import Translator
from bot.core.models import utcnow
from bot.core.names import clean_name
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.privacy.masking import mask_numbers

# --- reports and exports ----------------------------------------------------------------------


@dataclass
class ComplaintReport:
    start: date
    end: date
    total: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    median_first_response: timedelta | None = None
    median_resolution: timedelta | None = None
    responded_on_time: int = 0
    response_counted: int = 0
    resolved_on_time: int = 0
    resolution_counted: int = 0
    satisfaction: Satisfaction = field(default_factory=Satisfaction)

    @property
    def response_share(self) -> float | None:
        return self.responded_on_time / self.response_counted if self.response_counted else None

    @property
    def resolution_share(self) -> float | None:
        return self.resolved_on_time / self.resolution_counted if self.resolution_counted else None



def complaint_report(
    session: Session,
    rt: Runtime,
    start: date,
    end: date,
    *,
    public: bool = False,
    unit: str | None = None,
    now: datetime | None = None,
) -> ComplaintReport:
    """Figures for complaints received from ``start`` to ``end`` (office days, inclusive).
    ``public`` leaves confidential complaints out, as published figures must; ``unit`` keeps
    that unit's complaints only (a unit supervisor's report, bot/people/scope.py)."""
    now = now or utcnow()
    low, high = local_days_bounds(rt, start, end)
    scope = [Complaint.received_at >= low, Complaint.received_at < high]
    if public:
        scope.append(Complaint.privacy != CONFIDENTIAL)
    if unit is not None:
        scope.append(Complaint.unit == unit)
    report = ComplaintReport(start, end)
    for key, count in session.exec(
        select(Complaint.category, func.count()).where(*scope).group_by(Complaint.category)
    ).all():
        report.by_category[key] = count
    for key, count in session.exec(
        select(Complaint.status, func.count()).where(*scope).group_by(Complaint.status)
    ).all():
        report.by_status[key] = count
    report.total = sum(report.by_status.values())

    handled = col(Complaint.status).not_in((REJECTED, DUPLICATE))
    responded = col(Complaint.first_response_at).is_not(None)
    resolved = col(Complaint.resolved_at).is_not(None)
    row = session.exec(
        select(
            func.sum(
                case(
                    (and_(responded, Complaint.first_response_at <= Complaint.response_due), 1),
                    else_=0,
                )
            ),
            func.sum(case((or_(responded, Complaint.response_due < now), 1), else_=0)),
            func.sum(
                case((and_(resolved, Complaint.resolved_at <= Complaint.resolve_due), 1), else_=0)
            ),
            func.sum(case((or_(resolved, Complaint.resolve_due < now), 1), else_=0)),
        ).where(*scope, handled)
    ).one()
    (
        report.responded_on_time,
        report.response_counted,
        report.resolved_on_time,
        report.resolution_counted,
    ) = (int(v or 0) for v in row)

    # Medians over the few hundred tickets of a period: computed here so that SQLite (which has
    # no percentile function) and PostgreSQL give the same figure.
    times = session.exec(
        select(Complaint.received_at, Complaint.first_response_at, Complaint.resolved_at).where(
            *scope, handled
        )
    ).all()
    first = [r - rec for rec, r, _res in times if r is not None]
    done = [res - rec for rec, _r, res in times if res is not None]
    report.median_first_response = statistics.median(first) if first else None
    report.median_resolution = statistics.median(done) if done else None
    report.satisfaction = satisfaction_of(session, scope)
    if public:
        report.satisfaction.low_tickets = []  # published figures name no ticket
    return report


def _duration(delta: timedelta | None, tr: Translator) -> str:
    if delta is None:
        return "-"
    hours = round(delta.total_seconds() / 3600)
    days, hours = divmod(hours, 24)
    if days:
        return tr.ngettext("{n} day", "{n} days", days).format(n=days) + (
            " " + tr.ngettext("{n} hour", "{n} hours", hours).format(n=hours) if hours else ""
        )
    return tr.ngettext("{n} hour", "{n} hours", hours).format(n=hours)


def _share(part: int, whole: int, share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}% ({part}/{whole})"


def render_report(rt: Runtime, report: ComplaintReport, tr: Translator) -> str:
    _ = tr.gettext
    lines = [
        _("📊 <b>Complaints {start} – {end}</b>").format(
            start=format_day(report.start, tr), end=format_day(report.end, tr)
        ),
        _("Received: {n}").format(n=report.total),
    ]
    if report.total:
        lines += ["", _("<b>By category</b>")]
        for key, count in sorted(report.by_category.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"• {escape(category_of(rt, key).title(tr))}: {count}")
        lines += ["", _("<b>By status</b>")]
        for status in STATUSES:
            if report.by_status.get(status):
                lines.append(f"• {_(STATUS_LABELS[status])}: {report.by_status[status]}")
    lines += [
        "",
        _("Median time to first response: {t}").format(
            t=_duration(report.median_first_response, tr)
        ),
        _("Median time to resolution: {t}").format(t=_duration(report.median_resolution, tr)),
        _("First response within the time limit: {share}").format(
            share=_share(report.responded_on_time, report.response_counted, report.response_share)
        ),
        _("Resolved within the time limit: {share}").format(
            share=_share(
                report.resolved_on_time, report.resolution_counted, report.resolution_share
            )
        ),
    ]
    lines += render_satisfaction(report.satisfaction, tr)
    return "\n".join(lines)


EXPORT_COLUMNS = (
    Column("ticket"),
    Column("received_at", "datetime"),
    Column("category"),
    Column("service_id"),
    Column("place"),
    Column("privacy"),
    Column("complainant"),
    Column("status"),
    Column("unit"),
    Column("priority"),
    Column("verify_due", "datetime"),
    Column("response_due", "datetime"),
    Column("resolve_due", "datetime"),
    Column("first_response_at", "datetime"),
    Column("resolved_at", "datetime"),
    Column("closed_at", "datetime"),
    Column("solved"),
    Column("rating", "int"),
    Column("reopened", "int"),
    Column("description"),
)


def export_rows(
    session: Session, rt: Runtime, start: date, end: date, *, public: bool = False,
    unit: str | None = None,
) -> list[dict[str, Any]]:
    """Rows for a spreadsheet (times in the office's zone, keyed by EXPORT_COLUMNS). The
    complainant column holds a name only for named and confidential complaints; no Telegram
    id is ever exported. ``unit``: that unit's complaints only."""
    low, high = local_days_bounds(rt, start, end)
    query = select(Complaint).where(Complaint.received_at >= low, Complaint.received_at < high)
    if public:
        query = query.where(Complaint.privacy != CONFIDENTIAL)
    if unit is not None:
        query = query.where(Complaint.unit == unit)
    rows = []
    for c in session.exec(query.order_by(col(Complaint.received_at))).all():
        rows.append(
            {
                "ticket": c.ticket,
                "received_at": _local(c.received_at, rt),
                "category": c.category,
                "service_id": c.service_id or "",
                "place": c.place or "",
                "privacy": c.privacy,
                "complainant": "" if c.privacy == ANONYMOUS else clean_name(c.complainant_name),
                "status": c.status,
                "unit": c.unit or "",
                "priority": c.priority,
                "verify_due": _local(c.verify_due, rt),
                "response_due": _local(c.response_due, rt),
                "resolve_due": _local(c.resolve_due, rt),
                "first_response_at": _local(c.first_response_at, rt),
                "resolved_at": _local(c.resolved_at, rt),
                "closed_at": _local(c.closed_at, rt),
                "solved": "" if c.solved is None else ("yes" if c.solved else "no"),
                "rating": c.rating,
                "reopened": c.reopen_count,
                # Staff read it: NIKs and phone numbers masked (bot/privacy/masking.py).
                "description": mask_numbers(c.description),
            }
        )
    return rows


def export_file(
    session: Session, rt: Runtime, start: date, end: date, *, fmt: str, public: bool = False,
    unit: str | None = None,
) -> tuple[bytes, str]:
    """The export as a file: XLSX (typed cells, what the chat sends by default) or CSV;
    ``unit``: that unit's complaints only."""
    rows = export_rows(session, rt, start, end, public=public, unit=unit)
    values = [[row[c.name] for c in EXPORT_COLUMNS] for row in rows]
    name = f"complaints-{start.isoformat()}-{end.isoformat()}"
    if fmt == "csv":
        return to_csv(EXPORT_COLUMNS, values).encode("utf-8"), f"{name}.csv"
    return to_xlsx(EXPORT_COLUMNS, values, sheet="complaints"), f"{name}.xlsx"


def _local(moment: datetime | None, rt: Runtime) -> datetime | None:
    return moment.astimezone(rt.tz) if moment else None
