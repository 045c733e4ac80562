"""The log of unanswered questions: masking, deduplication, ratings, who sees what, the weekly
digest and the CSV of knowledge gaps."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, true, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.exports import safe_cell
from bot.core.logging import NIK_RE, PHONE_RE
from bot.core.models import utcnow
from bot.core.names import clean_name
from bot.feedback.models import ERASED_ASKER, OfficerQuestion, QuestionAsk, UnansweredQuestion

MAX_TEXT = 500  # characters kept of a question (the chat reads no more either)
# An answered question nobody rated is forgotten after this: its 👍/👎 buttons stop working.
UNRATED_TTL = timedelta(days=3)
# Who asked a logged question is kept this long (counts per period, the export); the log row
# keeps its totals afterwards, without anyone's id.
ASKER_TTL = timedelta(days=90)

LONG_NUMBER_RE = re.compile(r"(?<!\d)\d(?:[ .-]?\d){9,}(?!\d)")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# "nama saya Budi Santoso", "my name is Ann", "atas nama Siti": the words after the cue, up to
# three, are a name; a word that carries the question on ("mau", "want", ...) ends it.
_NAME_WORD = (
    r"(?!(?:mau|ingin|minta|mohon|tanya|bertanya|dan|yang|untuk|dari|dengan|want|would|and|"
    r"need|to|i|am|from|with)\b)[A-Za-z][A-Za-z'-]*"
)
NAME_CUE_RE = re.compile(
    r"(?i)\b(nama\s+(?:saya|aku|ku|anak\s+saya|ibu\s+saya|bapak\s+saya|suami\s+saya|istri\s+saya)"
    r"|namaku|saya\s+bernama|atas\s+nama|a\.\s?n\.|my\s+name\s+is)"
    rf"(\s*:?\s*)({_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})"
)
NAME = "[name]"


def mask_question(text: str, names: Iterable[str] = ()) -> str:
    """The question as it may be stored and shown to staff: NIKs, phone numbers, e-mail
    addresses and names (after "nama saya ...", and the asker's own Telegram names) replaced;
    control and direction characters dropped (PostgreSQL refuses NUL in text)."""
    masked = clean_name(text[:MAX_TEXT])
    masked = NIK_RE.sub("[NIK]", masked)
    masked = PHONE_RE.sub("[phone]", masked)
    masked = EMAIL_RE.sub("[email]", masked)
    masked = NAME_CUE_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{NAME}", masked)
    for name in names:
        # Two letters and more: a one-letter "name" would eat words.
        if name and len(name) >= 2:
            masked = re.sub(rf"(?i)(?<!\w){re.escape(name)}(?!\w)", NAME, masked)
    # Ten digits and more left, spaced or not (an account, a KK number written in groups), are
    # no one's business; dates and amounts of money stay readable.
    return LONG_NUMBER_RE.sub("[number]", masked).strip()


def normalise(masked: str) -> str:
    """The text questions are deduplicated on: lower case, punctuation and spacing ignored."""
    words = re.findall(r"\[[a-z]+\]|\w+", masked.lower())
    return " ".join(words)[:1000]


def _key(masked: str) -> str:
    return hashlib.sha256(normalise(masked).encode("utf-8")).hexdigest()


def _log(
    session: Session, masked: str, *, locale: str, service_id: str | None, rated_down: bool,
    now: datetime,
) -> UnansweredQuestion:
    """Count the question once more, adding its row if it is new (two instances at once: the
    unique key makes the second insert an update)."""
    key = _key(masked)
    for _attempt in range(2):
        result = session.exec(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.key == key)
            .values(
                count=UnansweredQuestion.count + 1,
                rated_down=UnansweredQuestion.rated_down + (1 if rated_down else 0),
                last_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            break
        row = UnansweredQuestion(
            key=key, text=masked, locale=locale, service_id=service_id, count=1,
            rated_down=1 if rated_down else 0, first_at=now, last_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
            return row
        except IntegrityError:
            continue
    return session.exec(
        select(UnansweredQuestion)
        .where(UnansweredQuestion.key == key)
        .execution_options(populate_existing=True)
    ).one()


def record_question(
    session: Session,
    *,
    user_id: int,
    chat_id: int,
    locale: str,
    text: str,
    names: Iterable[str] = (),
    service_id: str | None,
    topic: str | None,
    understood: bool,
    now: datetime | None = None,
) -> QuestionAsk:
    """Keep a question for the buttons under its answer; one not understood goes into the log
    at once. ``service_id`` is the answer's service, or the nearest one when not understood."""
    now = now or utcnow()
    masked = mask_question(text, names)
    ask = QuestionAsk(
        user_id=user_id, chat_id=chat_id, locale=locale, text=masked, service_id=service_id,
        topic=topic, understood=understood, asked_at=now,
    )
    if not understood:
        logged = _log(session, masked, locale=locale, service_id=service_id, rated_down=False,
                      now=now)
        ask.question_id = logged.id
    session.add(ask)
    session.flush()
    return ask


def own_ask(session: Session, ask_id: int, user_id: int) -> QuestionAsk | None:
    """The ask behind a button, only if the presser asked it (anything else is forged)."""
    ask = session.get(QuestionAsk, ask_id)
    if ask is None or ask.user_id != user_id:
        return None
    return ask


def rate(session: Session, ask: QuestionAsk, rating: int, *, now: datetime | None = None) -> bool:
    """Record 👍 (1) or 👎 (-1) for an answer; False when it was rated already (the first
    rating stands, so a double press counts once). 👎 puts the question in the log."""
    now = now or utcnow()
    result = session.exec(
        update(QuestionAsk)
        .where(QuestionAsk.id == ask.id, col(QuestionAsk.rating).is_(None))
        .values(rating=rating, rated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        return False
    ask.rating, ask.rated_at = rating, now
    if rating < 0:
        logged = _log(session, ask.text, locale=ask.locale, service_id=ask.service_id,
                      rated_down=True, now=now)
        ask.question_id = logged.id
        session.exec(
            update(QuestionAsk).where(QuestionAsk.id == ask.id).values(question_id=logged.id)
            .execution_options(synchronize_session=False)
        )
    return True


def forget_old_asks(session: Session, *, now: datetime | None = None) -> int:
    """Delete answered questions nobody rated after UNRATED_TTL, and who asked a logged one
    after ASKER_TTL; a question handed to an officer keeps its exchange, without the citizen
    after ASKER_TTL too."""
    now = now or utcnow()
    session.exec(
        update(OfficerQuestion)
        .where(OfficerQuestion.asked_at < now - ASKER_TTL, OfficerQuestion.user_id != ERASED_ASKER)
        .values(user_id=ERASED_ASKER, ask_id=None)
        .execution_options(synchronize_session=False)
    )
    handed = select(OfficerQuestion.ask_id).where(col(OfficerQuestion.ask_id).is_not(None))
    result = session.exec(
        delete(QuestionAsk).where(
            col(QuestionAsk.id).not_in(handed),
            or_(
                col(QuestionAsk.question_id).is_(None) & (QuestionAsk.asked_at < now - UNRATED_TTL),
                QuestionAsk.asked_at < now - ASKER_TTL,
            ),
        )
    )
    return result.rowcount or 0


# --- who sees what ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which logged questions a staff member sees: all, or those of some services plus the
    office-wide ones (service None)."""

    services: frozenset[str] | None  # None: all

    @classmethod
    def for_staff(
        cls, role: str, unit: str | None, service_ids: Iterable[str],
        unit_of: Callable[[str], str | None],
    ) -> Scope:
        """Admins see every question, and so does staff in no unit (a small office without
        units); an officer or supervisor in a unit sees the questions nearest to that unit's
        services and the office-wide ones (bot/people/scope.py)."""
        if role == "admin" or unit is None:
            return cls(None)
        return cls(frozenset(s for s in service_ids if unit_of(s) == unit))

    def clause(self) -> Any:
        if self.services is None:
            return true()
        return or_(
            col(UnansweredQuestion.service_id).is_(None),
            col(UnansweredQuestion.service_id).in_(sorted(self.services)),
        )


@dataclass
class LoggedQuestion:
    id: int
    text: str
    locale: str
    service_id: str | None
    count: int  # in the period asked for
    total: int
    rated_down: int
    first_at: datetime
    last_at: datetime
    answers: list[str]  # officers' answers given to it


def top_questions(
    session: Session, *, scope: Scope = Scope(None), since: datetime | None = None,
    until: datetime | None = None, limit: int | None = 10,
) -> list[LoggedQuestion]:
    """The most asked unanswered questions, with how often in [since, until) and the
    officers' answers; most asked first. The count in the period comes from who asked, kept
    for ASKER_TTL: without ``until``, a question last asked in the period but longer ago than
    that is listed too, counted 0 in the period (its totals are still there)."""
    in_period = select(QuestionAsk.question_id, func.count().label("n")).where(
        col(QuestionAsk.question_id).is_not(None)
    )
    if since is not None:
        in_period = in_period.where(QuestionAsk.asked_at >= since)
    if until is not None:
        in_period = in_period.where(QuestionAsk.asked_at < until)
    counts = in_period.group_by(QuestionAsk.question_id).subquery()
    n = func.coalesce(counts.c.n, 0)
    in_window = col(counts.c.n).is_not(None)
    if until is None:
        in_window = or_(in_window, UnansweredQuestion.last_at >= since) if since else true()
    query = (
        select(UnansweredQuestion, n)
        .outerjoin(counts, counts.c.question_id == UnansweredQuestion.id)
        .where(scope.clause(), in_window)
        .order_by(n.desc(), UnansweredQuestion.last_at.desc(), UnansweredQuestion.id)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.exec(query).all()
    ids = [row.id for row, _n in rows]
    answers: dict[int, list[str]] = {}
    if ids:
        for question_id, answer in session.exec(
            select(OfficerQuestion.question_id, OfficerQuestion.answer)
            .where(
                col(OfficerQuestion.question_id).in_(ids),
                col(OfficerQuestion.answer).is_not(None),
            )
            .order_by(OfficerQuestion.id)
        ).all():
            answers.setdefault(question_id, []).append(answer)
    return [
        LoggedQuestion(
            id=row.id, text=row.text, locale=row.locale, service_id=row.service_id, count=n,
            total=row.count, rated_down=row.rated_down, first_at=row.first_at,
            last_at=row.last_at, answers=answers.get(row.id, []),
        )
        for row, n in rows
    ]


# --- the weekly digest --------------------------------------------------------------------------


def digest_week(today: date) -> tuple[date, date]:
    """The ISO week before the one ``today`` is in: (its Monday, the following Monday)."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7), monday


def digest_key(chat_id: int, week_start: date) -> str:
    year, week, _day = week_start.isocalendar()
    return f"unanswered-digest:{chat_id}:{year}-W{week:02d}"


# --- the CSV of knowledge gaps -----------------------------------------------------------------

GAP_COLUMNS = (
    "id", "question", "language", "service", "unit", "asked_in_period", "asked_total",
    "rated_down_total", "first_asked", "last_asked", "officer_answers",
)


def spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets an apostrophe
    (bot/core/exports.py, the rule of every export)."""
    return safe_cell("" if value is None else str(value))


def gaps_csv(
    questions: list[LoggedQuestion], *, unit_of: Callable[[str], str | None],
    name_of: Callable[[str], str],
) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(GAP_COLUMNS)
    for q in questions:
        writer.writerow(
            spreadsheet_safe(v)
            for v in (
                q.id, q.text, q.locale, name_of(q.service_id) if q.service_id else "",
                (unit_of(q.service_id) or "") if q.service_id else "", q.count, q.total,
                q.rated_down, q.first_at.isoformat(), q.last_at.isoformat(),
                " | ".join(q.answers),
            )
        )
    return out.getvalue()


def parse_since(text: str, now: datetime) -> datetime:
    """'30d', '12w' or '2026-11-01' as the start of a period; ValueError otherwise."""
    text = text.strip().lower()
    found = re.fullmatch(r"(\d{1,4})([dw])", text)
    if found:
        days = int(found.group(1)) * (7 if found.group(2) == "w" else 1)
        return now - timedelta(days=days)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a period: use 30d, 12w or YYYY-MM-DD") from None
    return datetime.combine(day, datetime.min.time(), tzinfo=now.tzinfo)
