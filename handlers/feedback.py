"""Unanswered questions on Telegram: 👍/👎 under answers, "Tanya petugas" to the officers'
group and the officer's answer back, /belumterjawab for staff and the weekly digest."""

from __future__ import annotations

import io
import logging
from datetime import datetime, time, timedelta

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core.i18n import N_, Translator
from bot.core.models import ConversationState, Staff
from bot.core.offload import off_the_loop
from bot.core.runtime import Runtime
from bot.core.text import escape, split_message
from bot.feedback import handoff as ho
from bot.feedback import log as fl
from bot.feedback import render
from bot.feedback.models import OfficerQuestion, QuestionAsk
from bot.outbox.store import enqueue
from bot.people.conversations import clear_state, set_state
from bot.people.roles import has_role, role_of
from bot.qa.knowledge import OFFICE_ID
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    GROUP_FEATURES,
    edit_in_place,
    reply_html,
    runtime,
    staff_only,
    translator,
    unknown_button,
)
from handlers.registry import registry_of

log = logging.getLogger(__name__)

FLOW = "officer_answer"
GAPS = "gq"  # /belumterjawab's list as a file: gq:xlsx:<days>, gq:csv:<days>
DEFAULT_DAYS = 30
DIGEST_CHECK = timedelta(hours=1)
DIGEST_NOT_BEFORE = time(8, 0)  # office time on Monday: the digest is no midnight message


def officers_chat(rt: Runtime) -> int | None:
    return rt.settings.officers_chat_id or rt.settings.complaints_chat_id



def _name_of(rt: Runtime, locale: str):  # noqa: ANN202 - Callable[[str], str]
    def name(service_id: str) -> str:
        service = rt.knowledge.services.get(service_id)
        return service.name(locale) if service is not None else service_id

    return name


def unit_of(rt: Runtime, service_id: str) -> str | None:
    """A question's unit is the unit of the service it was nearest to, as the satisfaction
    surveys report it (the questionnaire's ``units:``, else the service's category)."""
    from bot.surveys.questionnaire import service_unit

    return service_unit(rt, service_id)


# --- under the answers (the hook called by handlers/qa.py) --------------------------------------


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


async def with_feedback(
    update: Update, context: ContextTypes.DEFAULT_TYPE, question: str, match: object,
    markup: InlineKeyboardMarkup, *, answered: bool = False,
) -> InlineKeyboardMarkup:
    """Keep the question for the buttons under its answer and add them: 👍/👎 under an answer,
    "Tanya petugas" under "not understood" (which goes into the log at once). ``answered``:
    answered without a service (a life event, a free-form entry)."""
    rt = runtime(context)
    tr = translator(update, context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return markup
    service_id = getattr(match, "service_id", None)
    understood = answered or service_id == OFFICE_ID or service_id in rt.knowledge.services
    suggestions = getattr(match, "suggestions", None) or []
    nearest = service_id if understood else (suggestions[0] if suggestions else None)
    with rt.db.session() as session:
        ask = fl.record_question(
            session, user_id=user.id, chat_id=chat.id, locale=tr.locale, text=question,
            names=[n for n in (user.first_name, user.last_name, user.username) if n],
            service_id=None if nearest == OFFICE_ID else nearest,
            topic=getattr(match, "topic", None), understood=understood, now=rt.now(),
        )
    _ = tr.gettext
    if understood:
        extra = [[_button("👍", _data("up", ask.id)), _button("👎", _data("dn", ask.id))]]
    else:
        # Always a way to a person: the officers' group when there is one, else the office's
        # own contacts (_hand_over).
        extra = [[_button(_("🙋 Ask an officer"), _data("ask", ask.id))]]
    return InlineKeyboardMarkup([*markup.inline_keyboard, *extra])


def _data(action: str, ask_id: int) -> str:
    return CallbackData(ho.PREFIX, action, ask_id).pack()


def _without_feedback(markup: InlineKeyboardMarkup | None) -> list[list[InlineKeyboardButton]]:
    return [
        list(row) for row in (markup.inline_keyboard if markup else ())
        if not any(str(b.callback_data or "").startswith(ho.PREFIX + ":") for b in row)
    ]


def _fits(ask: QuestionAsk, action: str) -> bool:
    """👍/👎 belong under an answer; "ask an officer" under "not understood", or after 👎."""
    if action == "ask":
        return not ask.understood or ask.rating == -1
    return ask.understood


async def citizen_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """qo:up|dn|ask:<ask id>. The ask must be the presser's own, else the button is forged."""
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    pressed = CallbackData.parse(query.data, ho.PREFIX, with_id=ho.CITIZEN_ACTIONS)
    if pressed is None or pressed.action not in ho.CITIZEN_ACTIONS or pressed.arg is not None:
        await unknown_button(update, context)
        return
    action, ask_id = pressed.action, pressed.id
    now = rt.now()
    rated = False
    with rt.db.session() as session:
        ask = fl.own_ask(session, ask_id, query.from_user.id)
        if ask is not None and not _fits(ask, action):
            ask = None
        elif ask is not None and action in ("up", "dn"):
            rated = fl.rate(session, ask, 1 if action == "up" else -1, now=now)
    if ask is None:
        await unknown_button(update, context)
        return
    if action == "ask":
        await _hand_over(update, context, ask_id, tr)
        return
    if not rated:
        await query.answer(_("You have rated this answer already. Thank you!"))
        return
    rows = _without_feedback(query.message.reply_markup if query.message else None)
    if action == "up":
        await query.answer(_("Thank you! Glad it helped."))
    else:
        await query.answer(_("Thank you. We noted that this answer did not help."))
        rows.append([_button(_("🙋 Ask an officer"), _data("ask", ask_id))])
    if query.message is not None:
        await edit_in_place(query.edit_message_reply_markup(InlineKeyboardMarkup(rows)))


async def _hand_over(
    update: Update, context: ContextTypes.DEFAULT_TYPE, ask_id: int, tr: Translator
) -> None:
    query = update.callback_query
    rt = runtime(context)
    group = officers_chat(rt)
    if group is None:
        await _contacts_instead(update, context, ask_id, tr)
        return
    office = Translator(rt.settings.default_locale)
    now = rt.now()
    with rt.db.session() as session:
        ask = fl.own_ask(session, ask_id, query.from_user.id)
        if ask is None:  # forgotten since the press was checked
            handed, created = None, False
        else:
            handed, created = ho.hand_over(session, ask, now=now)
        if created:
            name = _name_of(rt, office.locale)(ask.service_id) if ask.service_id else None
            ho.post_to_officers(session, handed, chat_id=group, tr=office, service_name=name)
    if handed is None:
        await unknown_button(update, context)
        return
    if not created:
        await query.answer(tr.gettext("This question is already with our officers."))
        return
    await query.answer()
    if query.message is not None:
        await edit_in_place(query.edit_message_reply_markup(
            InlineKeyboardMarkup(_without_feedback(query.message.reply_markup))
        ))
    hours = ho.office_hours(rt.knowledge, rt.calendar, now)
    await reply_html(update, ho.expectation(hours, tr, rt.calendar))


async def _contacts_instead(
    update: Update, context: ContextTypes.DEFAULT_TYPE, ask_id: int, tr: Translator
) -> None:
    """No officers' group is set up: the citizen is told how to reach a person at the office
    (its contacts in office.yaml) and when it is open; the question stays in the log."""
    query = update.callback_query
    rt = runtime(context)
    with rt.db.session() as session:
        ask = fl.own_ask(session, ask_id, query.from_user.id)
    if ask is None:
        await unknown_button(update, context)
        return
    await query.answer()
    _ = tr.gettext
    lines = [_("Our officers can help you directly:")]
    lines += [
        f"• {escape(contact.label.get(tr.locale))}: {escape(contact.value)}"
        for contact in rt.knowledge.office.contacts
    ]
    if len(lines) == 1:
        lines.append(escape(rt.knowledge.office.address))
    hours = ho.office_hours(rt.knowledge, rt.calendar, rt.now())
    lines += ["", ho.opening_line(hours, tr, rt.calendar)]
    await reply_html(update, "\n".join(lines))


# --- officers: answering in the group or in their private chat -----------------------------------


def _is_staff(rt: Runtime, user_id: int) -> bool:
    with rt.db.session() as session:
        return has_role(role_of(session, user_id, rt.settings.admin_ids), "officer")


async def _record_answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, handed_id: int, text: str
) -> None:
    rt = runtime(context)
    _ = translator(update, context).gettext
    group = officers_chat(rt)
    with rt.db.session() as session:
        handed, outcome = ho.answer(
            session, handed_id, officer_id=update.effective_user.id, text=text,
            default_locale=rt.settings.default_locale, now=rt.now(),
            group_chat_id=group if update.effective_chat.id != group else None,
        )
    if handed is None:
        await reply_html(update, _("That question is no longer here."))
    elif outcome == ho.ERASED:
        await reply_html(update, _("The citizen has deleted their data, so the answer cannot "
                                   "reach them; it is kept with the question for the knowledge "
                                   "base."))
    else:
        await reply_html(update, _("✅ Sent to the citizen. It is kept with the question, for "
                                   "the knowledge base."))


async def group_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An officer's Telegram reply to a hand-off post in the officers' group is the answer.
    Anyone else's reply, or a reply to another message, is left alone."""
    rt = runtime(context)
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if (
        replied is None
        or replied.from_user is None
        or replied.from_user.id != context.bot.id
        or update.effective_chat.id != officers_chat(rt)
        or not message.text
    ):
        return
    handed_id = ho.handoff_on_post(replied.reply_markup)
    if handed_id is None or not _is_staff(rt, update.effective_user.id):
        return
    await _record_answer(update, context, handed_id, message.text)


async def answer_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """qo:ans:<id> on the group post: the officer writes the answer in their private chat."""
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    handed_id = ho.parse_answer_button(query.data)
    user_id = query.from_user.id
    with rt.db.session() as session:
        handed = session.get(OfficerQuestion, handed_id) if handed_id is not None else None
        allowed = has_role(role_of(session, user_id, rt.settings.admin_ids), "officer")
        if handed is not None and allowed:
            set_state(session, chat_id=user_id, user_id=user_id, flow=FLOW, step="answer",
                      data={"handed": handed.id})
    if handed is None or not allowed:
        await unknown_button(update, context)
        return
    prompt = "\n\n".join([
        f"<i>{escape(handed.text)}</i>",
        "<b>" + tr.gettext(ho.ANSWER_PROMPT).format(id=handed.id) + "</b>",
    ])
    try:
        for part in split_message(prompt):
            await context.bot.send_message(user_id, part, parse_mode=ParseMode.HTML)
    except Forbidden:
        with rt.db.session() as session:
            clear_state(session, chat_id=user_id, user_id=user_id)
        await query.answer(
            tr.gettext("Open a private chat with me first (press Start), then try again."),
            show_alert=True,
        )
        return
    await query.answer(tr.gettext("Write it in your private chat with me."))


async def answer_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    """The officer's answer typed after the 💬 Answer button."""
    rt = runtime(context)
    _ = translator(update, context).gettext
    text = update.effective_message.text
    if not text:
        await reply_html(update, _("Please write it as text. /batal to cancel."))
        return
    if not _is_staff(rt, update.effective_user.id):
        with rt.db.session() as session:
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
        await reply_html(update, _("Cancelled. Nothing was saved."))
        return
    with rt.db.session() as session:
        clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
    await _record_answer(update, context, int(state.data.get("handed", 0)), text)


# --- staff: the list, and the weekly digest ------------------------------------------------------


@staff_only("officer")
async def unanswered_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/belumterjawab [days]: the most asked unanswered questions the presser may see."""
    rt = runtime(context)
    tr = translator(update, context)
    args = context.args or []
    if len(args) > 1 or (args and not (args[0].isdigit() and 0 < int(args[0]) <= 3650)):
        await reply_html(update, tr.gettext("Use /belumterjawab or /belumterjawab 7 (days)."))
        return
    days = int(args[0]) if args else DEFAULT_DAYS
    with rt.db.session() as session:
        scope = _scope_of(session, rt, update.effective_user.id)
        questions = fl.top_questions(
            session, scope=scope, since=rt.now() - timedelta(days=days), limit=15
        )
    text = render.unanswered_list(
        questions, tr, rt.tz, days, _name_of(rt, tr.locale), everything=scope.services is None
    )
    files = None
    if questions:  # the whole list as a file, for the records or a meeting
        files = InlineKeyboardMarkup([[
            InlineKeyboardButton(
                label, callback_data=CallbackData(GAPS, kind, arg=str(days)).pack()
            )
            for kind, label in (("xlsx", "📊 XLSX"), ("csv", "📄 CSV"))
        ]])
    await reply_html(update, text, files)


def _scope_of(session: Session, rt: Runtime, user_id: int) -> fl.Scope:
    """The questions this staff member may see (roles and unit from the database)."""
    role = role_of(session, user_id, rt.settings.admin_ids)
    staff = session.get(Staff, user_id)
    return fl.Scope.for_staff(
        role, staff.unit if staff is not None else None, rt.knowledge.services,
        lambda s: unit_of(rt, s),
    )


@staff_only("officer")
async def gaps_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """📊 XLSX / 📄 CSV under /belumterjawab: every question of the period the presser may see,
    as a file (built in a report thread); the scope is the presser's, whoever's list it was."""
    rt = runtime(context)
    query = update.callback_query
    data = CallbackData.parse(query.data, GAPS)
    days = data.arg if data is not None else None
    if data is None or data.action not in ("xlsx", "csv") or days is None \
            or not (days.isascii() and days.isdigit() and 0 < int(days) <= 3650):
        await unknown_button(update, context)
        return
    await query.answer()
    xlsx, user_id = data.action == "xlsx", update.effective_user.id
    office = rt.settings.default_locale

    def build() -> tuple[int, bytes]:
        with rt.db.session() as session:
            return fl.gaps_export(
                session, scope=_scope_of(session, rt, user_id),
                since=rt.now() - timedelta(days=int(days)), xlsx=xlsx,
                unit_of=lambda s: unit_of(rt, s), name_of=_name_of(rt, office), tz=rt.tz,
            )

    count, body = await off_the_loop(build)
    name = f"belum-terjawab-{days}-hari-{rt.now().astimezone(rt.tz):%Y%m%d}.{data.action}"
    caption = translator(update, context).ngettext(
        "{n} unanswered question, last {days} days", "{n} unanswered questions, last {days} days",
        count).format(n=count, days=days)
    await update.effective_chat.send_document(InputFile(io.BytesIO(body), filename=name),
                                              caption=caption)


def queue_digest(rt: Runtime, now: datetime) -> bool:
    """Queue last week's digest for the officers' group, once per week (the outbox's dedupe
    key); nothing before Monday 08:00 office time, nor for a week without questions. True
    when there is a digest for the week (queued now or before)."""
    group = officers_chat(rt)
    if group is None:
        return False
    local = now.astimezone(rt.tz)
    if local.weekday() == 0 and local.time() < DIGEST_NOT_BEFORE:
        return False
    start, end = fl.digest_week(local.date())
    since = datetime.combine(start, time(0), tzinfo=rt.tz)
    until = datetime.combine(end, time(0), tzinfo=rt.tz)
    tr = Translator(rt.settings.default_locale)
    with rt.db.session() as session:
        questions = fl.top_questions(session, since=since, until=until, limit=None)
        if not questions:
            return False
        text = render.digest(questions, tr, rt.tz, start, _name_of(rt, tr.locale),
                             total=len(questions))
        enqueue(session, chat_id=group, text=split_message(text)[0],
                dedupe_key=fl.digest_key(group, start))
    return True


async def digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hourly: last week's digest (queued once), and the expired asks forgotten."""
    rt = runtime(context)
    now = rt.now()
    queue_digest(rt, now)
    with rt.db.session() as session:
        forgotten = fl.forget_old_asks(session, now=now)
    if forgotten:
        log.info("feedback: %d old question(s) forgotten", forgotten)


class _ReplyToHandoffPost(filters.MessageFilter):
    """A reply to a message carrying a hand-off's Answer button: other replies in groups stay
    free for other features."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return replied is not None and ho.handoff_on_post(replied.reply_markup) is not None


def register(app: Application) -> None:
    registry_of(app).add_flow(FLOW, answer_message)
    registry_of(app).add_staff_command(
        "officer", "belumterjawab", "unanswered", N_("Questions I could not answer")
    )
    app.add_handler(
        CommandHandler(["belumterjawab", "unanswered"], unanswered_command), GROUP_FEATURES
    )
    app.add_handler(CallbackQueryHandler(gaps_button, pattern=rf"^{GAPS}:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(answer_button, pattern=r"^qo:ans:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(citizen_button, pattern=r"^qo:"), GROUP_FEATURES)
    app.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND & _ReplyToHandoffPost(),
            group_reply,
        ),
        GROUP_FEATURES,
    )
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            digest_job, interval=DIGEST_CHECK, first=90, name="unanswered-digest"
        )


