"""A question handed to a person: posted to the officers' group through the outbox, answered
there, and the answer taken back to the citizen through the outbox. Office hours decide what
the citizen is told to expect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_datetime
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core.i18n import N_, Translator
from bot.core.models import User, utcnow
from bot.core.text import escape
from bot.core.workdays import WorkingCalendar
from bot.feedback.models import ERASED_ASKER, OfficerQuestion, QuestionAsk
from bot.outbox.store import enqueue
from bot.qa.knowledge import KnowledgeBase
from bot.telegram_rules.callback import CallbackData

PREFIX = "qo"  # every button of this feature: qo:up|dn|ask:<ask id>, qo:ans:<hand-off id>
CITIZEN_ACTIONS = ("up", "dn", "ask")
MAX_ANSWER = 3000  # characters of an officer's answer; the wrapper must still fit a message
LOOKAHEAD_DAYS = 21  # how far ahead the next opening is looked for (a long Lebaran closure)


# --- office hours --------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeHours:
    open_now: bool
    next_opening: datetime | None  # UTC; None when open now, or nothing within the lookahead


def office_hours(kb: KnowledgeBase, calendar: WorkingCalendar, now: datetime) -> OfficeHours:
    """Is the office open at ``now``, and if not, when does it open next? A day is open when
    the office lists hours for its weekday and it is no holiday, joint leave or closure."""
    tz = calendar.tz
    local = now.astimezone(tz)
    hours = kb.office.opening_hours
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = local.date() + timedelta(days=offset)
        if calendar.holiday_name(day) is not None:
            continue
        for span in hours.on(day.weekday()):
            start = datetime.combine(day, span.start, tzinfo=tz)
            end = datetime.combine(day, span.end, tzinfo=tz)
            if offset == 0 and start <= local < end:
                return OfficeHours(True, None)
            if start > local:
                return OfficeHours(False, start.astimezone(now.tzinfo))
    return OfficeHours(False, None)


def format_opening(moment: datetime, tr: Translator, calendar: WorkingCalendar) -> str:
    """'Monday, 7 December 2026 08:00' in the reader's language."""
    locale = "id_ID" if tr.locale == "id" else "en_GB"
    return format_datetime(
        moment.astimezone(calendar.tz), "EEEE, d MMMM y HH:mm", locale=locale
    )


def expectation(hours: OfficeHours, tr: Translator, calendar: WorkingCalendar) -> str:
    """What the citizen reads after handing a question over (HTML)."""
    _ = tr.gettext
    done = _("✅ Your question has been passed to our officers. Their answer will come here, "
             "in this chat.")
    if hours.open_now:
        return done + "\n" + _("The office is open now, so the answer should not take long.")
    if hours.next_opening is not None:
        when = format_opening(hours.next_opening, tr, calendar)
        return done + "\n" + _(
            "The office is closed now: expect an answer after it opens on {when}."
        ).format(when=f"<b>{escape(when)}</b>")
    return done + "\n" + _("The office is closed now: expect an answer once it opens again.")


def opening_line(hours: OfficeHours, tr: Translator, calendar: WorkingCalendar) -> str:
    """Whether the office is open now, else when it opens (HTML): for a citizen told to call."""
    _ = tr.gettext
    if hours.open_now:
        return _("The office is open now.")
    if hours.next_opening is not None:
        when = format_opening(hours.next_opening, tr, calendar)
        return _("The office is closed now; it opens again on {when}.").format(
            when=f"<b>{escape(when)}</b>"
        )
    return _("The office is closed now.")


# --- handing over --------------------------------------------------------------------------


def hand_over(
    session: Session, ask: QuestionAsk, *, now: datetime | None = None
) -> tuple[OfficerQuestion, bool]:
    """The hand-off for ``ask``, made once: (it, True when made by this call)."""
    existing = session.exec(
        select(OfficerQuestion).where(OfficerQuestion.ask_id == ask.id)
    ).first()
    if existing is not None:
        return existing, False
    handed = OfficerQuestion(
        ask_id=ask.id, question_id=ask.question_id, user_id=ask.user_id, locale=ask.locale,
        text=ask.text, service_id=ask.service_id, asked_at=now or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(handed)
    except IntegrityError:  # pressed twice at once on two instances
        return session.exec(
            select(OfficerQuestion).where(OfficerQuestion.ask_id == ask.id)
        ).one(), False
    return handed, True


def post_to_officers(
    session: Session, handed: OfficerQuestion, *, chat_id: int, tr: Translator,
    service_name: str | None,
) -> None:
    """Queue the post in the officers' group (in the office's language), once per hand-off."""
    _ = tr.gettext
    where = (
        _("Service: {service}").format(service=escape(service_name))
        if service_name else _("Not about one service (office-wide)")
    )
    text = "\n".join([
        _("🙋 <b>A citizen asks an officer</b> · #{id}").format(id=handed.id),
        where,
        "",
        f"<i>{escape(handed.text)}</i>",
        "",
        _("Reply to this message to answer, or press 💬 Answer. The answer goes to the citizen "
          "in their chat."),
    ])
    markup = {"inline_keyboard": [[
        {"text": _("💬 Answer"), "callback_data": CallbackData(PREFIX, "ans", handed.id).pack()}
    ]]}
    enqueue(session, chat_id=chat_id, text=text, reply_markup=markup,
            dedupe_key=f"officer-question:{handed.id}")


def parse_answer_button(data: str | None) -> int | None:
    pressed = CallbackData.parse(data, PREFIX, with_id=("ans",))
    if pressed is None or pressed.action != "ans" or pressed.arg is not None:
        return None
    return pressed.id


def handoff_on_post(markup: Any) -> int | None:
    """The hand-off a group post is about, read from its Answer button (an officer's reply
    quotes the post, buttons included, as Telegram sent it: it cannot be forged)."""
    rows = getattr(markup, "inline_keyboard", None) or []
    for row in rows:
        for button in row:
            found = parse_answer_button(getattr(button, "callback_data", None))
            if found is not None:
                return found
    return None


ERASED = "erased"
SENT = "sent"


def answer(
    session: Session, handed_id: int, *, officer_id: int, text: str, default_locale: str,
    group_chat_id: int | None = None, now: datetime | None = None,
) -> tuple[OfficerQuestion | None, str]:
    """Record an officer's answer and queue it to the citizen in their language: (the
    hand-off, SENT), (it, ERASED) when the citizen's data was erased meanwhile, (None, "")
    when there is no such hand-off. A later answer is added to the first and sent too.

    ``group_chat_id``: the answer was written elsewhere than in the group (the private chat
    after the Answer button), so the group is told, and no one else answers it again."""
    now = now or utcnow()
    handed = session.exec(
        select(OfficerQuestion).where(OfficerQuestion.id == handed_id).with_for_update()
    ).first()
    if handed is None:
        return None, ""
    body = text.strip()[:MAX_ANSWER]
    handed.answer = f"{handed.answer}\n\n{body}" if handed.answer else body
    handed.status = "answered"
    handed.officer_id = officer_id
    handed.answered_at = now
    session.add(handed)
    if group_chat_id is not None:
        office = Translator(default_locale)
        note = office.gettext("✅ Question #{id} was answered by officer {officer}:").format(
            id=handed.id, officer=officer_id)
        enqueue(session, chat_id=group_chat_id, text=f"{note}\n{escape(body)}")
    if handed.user_id == ERASED_ASKER:
        return handed, ERASED
    user = session.get(User, handed.user_id)
    tr = Translator(user.language if user is not None else handed.locale or default_locale)
    _ = tr.gettext
    message = "\n".join([
        _("💬 <b>An officer answered your question</b>"),
        f"<i>{escape(handed.text)}</i>",
        "",
        escape(body),
    ])
    enqueue(session, chat_id=handed.user_id, text=message)
    return handed, SENT


ANSWER_PROMPT = N_(
    "Write your answer to question #{id}; it goes to the citizen. /batal to cancel."
)
