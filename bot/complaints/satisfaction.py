"""The citizens' satisfaction with how their complaints were handled, for /laporan and the
exports: the stars given (average, count, the low ones) and the share of answers the
complainant sent back as "not solved"."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from bot.complaints.models import Complaint
from bot.core.i18n import Translator

LOW_RATING = 2  # stars at or below which a rating is shown to supervisors (feedback.py too)
LOW_LISTED = 10  # low-rated tickets named in the report


@dataclass
class Satisfaction:
    ratings: int = 0
    stars: int = 0  # summed, for the average
    answered: int = 0  # complaints answered at least once
    reopened: int = 0  # of those, sent back as not solved at least once
    low_tickets: list[str] = field(default_factory=list)
    low: int = 0

    @property
    def average(self) -> float | None:
        return self.stars / self.ratings if self.ratings else None

    @property
    def reopen_share(self) -> float | None:
        return self.reopened / self.answered if self.answered else None


def satisfaction_of(session: Session, scope: list[ColumnElement[bool]]) -> Satisfaction:
    """Satisfaction over the complaints ``scope`` selects (a report's period and filters)."""
    rated = col(Complaint.rating).is_not(None)
    answered = or_(col(Complaint.resolved_at).is_not(None), Complaint.reopen_count > 0)
    row = session.exec(
        select(
            func.sum(case((rated, 1), else_=0)),
            func.sum(func.coalesce(Complaint.rating, 0)),
            func.sum(case((answered, 1), else_=0)),
            func.sum(case((Complaint.reopen_count > 0, 1), else_=0)),
            func.sum(case((Complaint.rating <= LOW_RATING, 1), else_=0)),
        ).where(*scope)
    ).one()
    result = Satisfaction(*(int(value or 0) for value in row[:4]), low=int(row[4] or 0))
    result.low_tickets = list(
        session.exec(
            select(Complaint.ticket)
            .where(*scope, Complaint.rating <= LOW_RATING)
            .order_by(col(Complaint.rating), col(Complaint.id))
            .limit(LOW_LISTED)
        ).all()
    )
    return result


def render_satisfaction(result: Satisfaction, tr: Translator) -> list[str]:
    """The report's lines about satisfaction (HTML)."""
    _ = tr.gettext
    lines = ["", _("<b>Complainants' satisfaction</b>")]
    if result.ratings:
        lines.append(
            tr.ngettext(
                "Average rating: {average} ⭐ ({n} rating)",
                "Average rating: {average} ⭐ ({n} ratings)",
                result.ratings,
            ).format(average=f"{result.average:.1f}", n=result.ratings)
        )
    else:
        lines.append(_("Average rating: - (no ratings yet)"))
    if result.answered:
        lines.append(
            _("Reopened as not solved: {share} ({part}/{whole})").format(
                share=f"{result.reopen_share * 100:.0f}%",
                part=result.reopened,
                whole=result.answered,
            )
        )
    else:
        lines.append(_("Reopened as not solved: - (nothing answered yet)"))
    if result.low:
        line = _("Low ratings (1–2 ⭐): {n}").format(n=result.low)
        if result.low_tickets:
            more = " …" if result.low > len(result.low_tickets) else ""
            line += ": " + ", ".join(result.low_tickets) + more
        lines.append(line)
    return lines
