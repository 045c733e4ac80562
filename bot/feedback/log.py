"""The log of unanswered questions: masking, deduplication, ratings, who sees what, the weekly
digest and the spreadsheet of knowledge gaps."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import delete, func, or_, true, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.exports import Column, to_csv, to_xlsx
from bot.core.logging import NIK_RE, PHONE_RE
from bot.core.models import utcnow
from bot.core.names import clean_name
from bot.feedback.models import ERASED_ASKER, OfficerQuestion, QuestionAsk, UnansweredQuestion
from bot.people.roles import audit
from bot.privacy.masking import mask_numbers

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
        if role == "admin":
            return cls(None)
        return cls.of_unit(unit, service_ids, unit_of)

    @classmethod
    def of_unit(
        cls, unit: str | None, service_ids: Iterable[str], unit_of: Callable[[str], str | None],
    ) -> Scope:
        """A unit's questions (those nearest to its services) and the office-wide ones; every
        question for no unit."""
        if unit is None:
            return cls(None)
        return cls(frozenset(s for s in service_ids if unit_of(s) == unit))

    def covers(self, question: UnansweredQuestion) -> bool:
        return self.services is None or question.service_id is None or \
            question.service_id in self.services

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
    that is listed too, counted 0 in the period (its totals are still there).

    A question staff handled (``mark_handled``) is left out, unless it was asked (and again
    not answered well) after that: then it is back, counted from that moment (the asks
    before it were let go of when it was handled)."""
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
        .where(
            scope.clause(), in_window,
            or_(col(UnansweredQuestion.handled_at).is_(None),
                UnansweredQuestion.last_at > UnansweredQuestion.handled_at),
        )
        .order_by(n.desc(), UnansweredQuestion.last_at.desc(), UnansweredQuestion.id)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.exec(query).all()
    answers = officer_answers(session, [row.id for row, _n in rows])
    return [
        LoggedQuestion(
            id=row.id, text=row.text, locale=row.locale, service_id=row.service_id, count=n,
            total=row.count, rated_down=row.rated_down, first_at=row.first_at,
            last_at=row.last_at, answers=answers.get(row.id, []),
        )
        for row, n in rows
    ]


def officer_answers(session: Session, question_ids: list[int]) -> dict[int, list[str]]:
    """The answers officers gave to the questions handed to them, per logged question."""
    answers: dict[int, list[str]] = {}
    if question_ids:
        for question_id, answer in session.exec(
            select(OfficerQuestion.question_id, OfficerQuestion.answer)
            .where(
                col(OfficerQuestion.question_id).in_(question_ids),
                col(OfficerQuestion.answer).is_not(None),
            )
            .order_by(OfficerQuestion.id)
        ).all():
            answers.setdefault(question_id, []).append(answer)
    return answers


def get_question(session: Session, question_id: int) -> UnansweredQuestion | None:
    return session.get(UnansweredQuestion, question_id)


def mark_handled(
    session: Session, question: UnansweredQuestion, *, actor_id: int, handled_as: str | None,
    now: datetime | None = None,
) -> None:
    """Staff took care of the question (``handled_as``: the knowledge file that now answers
    it, or None when it needs no answer): off the lists until asked and not answered again.
    Its asks so far no longer count for it (its total stays), so a question that comes back
    is counted from now, and who asked is then kept only as long as any answered question's
    asker (UNRATED_TTL)."""
    now = now or utcnow()
    session.exec(
        update(QuestionAsk).where(QuestionAsk.question_id == question.id)
        .values(question_id=None).execution_options(synchronize_session=False)
    )
    question.handled_at, question.handled_by = now, actor_id
    question.handled_as = handled_as[:200] if handled_as else None
    session.add(question)
    audit(session, actor_id=actor_id, action="unanswered.handled", subject=str(question.id),
          handled_as=handled_as)


# --- the weekly digest --------------------------------------------------------------------------


def digest_week(today: date) -> tuple[date, date]:
    """The ISO week before the one ``today`` is in: (its Monday, the following Monday)."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7), monday


def digest_key(chat_id: int, week_start: date) -> str:
    year, week, _day = week_start.isocalendar()
    return f"unanswered-digest:{chat_id}:{year}-W{week:02d}"


# --- the spreadsheet of knowledge gaps --------------------------------------------------------

GAP_COLUMNS = (
    Column("id", "int"), Column("question"), Column("language"), Column("service"),
    Column("unit"), Column("asked_in_period", "int"), Column("asked_total", "int"),
    Column("rated_down_total", "int"), Column("first_asked", "datetime"),
    Column("last_asked", "datetime"), Column("officer_answers"),
)


def gap_rows(
    questions: list[LoggedQuestion], *, unit_of: Callable[[str], str | None],
    name_of: Callable[[str], str], tz: tzinfo,
) -> list[list[Any]]:
    """The rows of GAP_COLUMNS (times in the office's zone ``tz``); the questions are stored
    masked, the officers' answers are masked here (bot/privacy/masking.py)."""
    return [
        [
            q.id, q.text, q.locale, name_of(q.service_id) if q.service_id else "",
            (unit_of(q.service_id) or "") if q.service_id else "", q.count, q.total,
            q.rated_down, q.first_at.astimezone(tz), q.last_at.astimezone(tz),
            " | ".join(mask_numbers(answer) for answer in q.answers),
        ]
        for q in questions
    ]


def gaps_file(rows: list[list[Any]], *, xlsx: bool) -> bytes:
    """The export as XLSX (typed cells) or CSV (UTF-8); formula-like cells are text in both
    (bot/core/exports.py)."""
    if xlsx:
        return to_xlsx(GAP_COLUMNS, rows, sheet="unanswered")
    return to_csv(GAP_COLUMNS, rows).encode("utf-8")


def gaps_export(
    session: Session, *, scope: Scope, since: datetime, xlsx: bool,
    unit_of: Callable[[str], str | None], name_of: Callable[[str], str], tz: tzinfo,
) -> tuple[int, bytes]:
    """Every unanswered question of ``scope`` asked since ``since``, as the file the chat, the
    console and the command line hand out: (how many questions, the file)."""
    questions = top_questions(session, scope=scope, since=since, limit=None)
    rows = gap_rows(questions, unit_of=unit_of, name_of=name_of, tz=tz)
    return len(questions), gaps_file(rows, xlsx=xlsx)


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
