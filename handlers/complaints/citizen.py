"""The citizen's side of complaints: the filing flow (/pengaduan); its steps and questions are in
handlers/complaints/steps.py, the tickets (/tiket) in handlers/complaints/tickets.py."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from telegram import Message, ReplyKeyboardRemove, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.complaints.access import (
    ComplaintError,
    InvalidInput,
    LimitReached,
)
from bot.complaints.dates import parse_occurred_on
from bot.complaints.filing import (
    Evidence,
    check_daily_limit,
    check_location,
    clean_description,
    clean_place,
    file_complaint,
)
from bot.complaints.models import Complaint
from bot.complaints.render import complainant_buttons
from bot.complaints.vocabulary import (
    ANONYMOUS,
    MAX_EVIDENCE,
    PRIVACY_CHOICES,
    categories,
    category_of,
    time_limits,
)
from bot.core.i18n import Translator
from bot.core.models import ConversationState, utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.people.conversations import clear_state, get_state, set_state
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    main_menu,
    reply_html,
    runtime,
    translator,
    unknown_button,
)
from handlers.complaints.shared import (
    FLOW,
    error_text,
    inline_keyboard,
    json_markup,
    user_name,
)
from handlers.complaints.steps import next_step, question, read_description, skip_words

# --- the citizen's filing flow ----------------------------------------------------------------


def _service_choices(rt: Runtime) -> list[str]:
    services = getattr(rt.knowledge, "services", None) or {}
    return list(services)


def _today(rt: Runtime) -> date:
    return rt.now().astimezone(rt.tz).date()


async def _go(
    update: Update, context: ContextTypes.DEFAULT_TYPE, step: str, data: dict[str, Any]
) -> None:
    """Save the flow at ``step`` and ask its question."""
    rt = runtime(context)
    tr = translator(update, context)
    with rt.db.session() as s:
        set_state(
            s,
            chat_id=update.effective_chat.id,
            user_id=update.effective_user.id,
            flow=FLOW,
            step=step,
            data=data,
            reply_keyboard=step == "location",  # the place's share-location keyboard
        )
    text, markup = question(rt, step, data, tr, _today(rt))
    await reply_html(update, text, markup)


async def complaint_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pengaduan, /complaint and the menu button: start filing (private chats only)."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    tr = translator(update, context)
    if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
        await reply_html(update, tr.gettext("Please file complaints in a private chat with me."))
        return
    await begin_filing(update, context)


async def begin_filing(
    update: Update, context: ContextTypes.DEFAULT_TYPE, description: str | None = None, *,
    category: str | None = None, service_id: str | None = None,
) -> None:
    """Start filing, within the daily limit. From a message recognised as a complaint
    (handlers/conversation.py) the citizen's own words are carried over, and what is already
    known is not asked again."""
    rt = runtime(context)
    tr = translator(update, context)
    try:
        with rt.db.session() as s:
            check_daily_limit(s, rt, update.effective_user.id, utcnow())
    except LimitReached as exc:
        await reply_html(update, error_text(exc, tr), main_menu(tr.gettext))
        return
    data: dict[str, Any] = {"services": _service_choices(rt), "evidence": []}
    if category in {c.key for c in categories(rt)}:
        data["category"] = category
    if service_id is not None and service_id in data["services"]:
        data["service_id"] = service_id
    if description is not None:
        try:
            data["description"] = clean_description(description)
        except InvalidInput:
            pass  # too short or too long: the description step asks for it
        else:
            read_description(rt, data, _today(rt))
    await _go(update, context, next_step(rt, None, data), data)


def _open_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> ConversationState | None:
    with runtime(context).db.session() as s:
        return get_state(s, chat_id=update.effective_chat.id, user_id=update.effective_user.id)


async def flow_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """cf:<step>:<value>: a choice in the filing flow; stale or forged ones change nothing."""
    query = update.callback_query
    state = _open_flow(update, context)
    pressed = CallbackData.parse(query.data, "cf")
    if state is None or state.flow != FLOW or pressed is None:
        await unknown_button(update, context)
        return
    rt = runtime(context)
    data = dict(state.data)
    kind, value = pressed.action, pressed.arg or ""
    expected = {
        "cat": "category",
        "svc": "service",
        "when": "when",
        "ev": "evidence",
        "priv": "privacy",
        "ok": "confirm",
        "no": "confirm",
    }
    if expected.get(kind) != state.step:
        await unknown_button(update, context)
        return
    if kind == "cat":
        if value not in {c.key for c in categories(rt)}:
            await unknown_button(update, context)
            return
        data["category"] = value
    elif kind == "svc":
        services = data.get("services", [])
        if value == "none":
            data["service_id"] = None
        elif value.isdigit() and int(value) < len(services):
            data["service_id"] = services[int(value)]
        else:
            await unknown_button(update, context)
            return
    elif kind == "when":
        if value == "pick":
            await query.answer()
            await _go(update, context, "when", {**data, "when_pick": True})
            return
        day = _day_of_button(value, _today(rt))
        if day is False:
            await unknown_button(update, context)
            return
        data["occurred_on"] = day.isoformat() if day else None
    elif kind == "priv":
        if value not in PRIVACY_CHOICES:
            await unknown_button(update, context)
            return
        data["privacy"] = value
    elif kind == "no":
        await query.answer()
        with rt.db.session() as s:
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
        _ = translator(update, context).gettext
        await reply_html(update, _("Cancelled. Nothing was saved."), main_menu(_))
        return
    elif kind == "ok":
        await query.answer()
        await _file(update, context, state)
        return
    await query.answer()
    await _go(update, context, next_step(rt, state.step, data), data)


def _day_of_button(value: str, today: date) -> date | None | bool:
    """The day a date button stands for; None for Skip; False for one no button carries (a
    future or malformed day)."""
    if value == "skip":
        return None
    if value == "today":
        return today
    if value == "yest":
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return False
    return day if day <= today else False


async def flow_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    """A message while filing: the description, a date, the place, evidence."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    message = update.effective_message
    data = dict(state.data)
    step = state.step
    today = _today(rt)
    try:
        if step == "description" and message.text:
            data["description"] = clean_description(message.text)
            read_description(rt, data, today)
        elif step == "when" and message.text:
            data["occurred_on"] = parse_occurred_on(message.text, today).isoformat()
        elif step == "evidence" and (message.photo or message.document):
            evidence = data.get("evidence", [])
            if len(evidence) >= MAX_EVIDENCE:
                await reply_html(
                    update,
                    _("That is the most I can take. Press Done."),
                    inline_keyboard([[(_("✔️ Done"), CallbackData("cf", "ev", arg="done").pack())]]),
                )
                return
            if message.photo:
                evidence.append(["photo", message.photo[-1].file_id])
            else:
                evidence.append(["document", message.document.file_id])
            data["evidence"] = evidence
            await _go(update, context, "evidence", data)
            return
        elif step == "location" and (message.location or message.text):
            noted = _read_place(message, data, tr)
            # The place's keyboard goes away with this note; the next question has buttons.
            await reply_html(update, noted, ReplyKeyboardRemove())
        else:
            # Not what this step asks for: say what it needs, ask again, keep everything.
            text, markup = question(rt, step, data, tr, today)
            await reply_html(
                update, _("Sorry, I need something else here.") + "\n\n" + text, markup
            )
            return
    except InvalidInput as exc:
        _text, markup = question(rt, step, data, tr, today)
        await reply_html(update, error_text(exc, tr), markup)
        return
    await _go(update, context, next_step(rt, step, data), data)


def _read_place(message: Message, data: dict[str, Any], tr: Translator) -> str:
    """The place step's answer into ``data`` (a pin, the place in words, or Skip); returns
    the note that confirms it."""
    _ = tr.gettext
    data["where"] = True
    if message.location:
        lat, lon = check_location(message.location.latitude, message.location.longitude)
        data["location"] = [lat, lon]
        return _("📍 Location noted.")
    if message.text.strip().casefold() in skip_words(tr):
        return _("All right, without a place.")
    data["place"] = clean_place(message.text)
    return _("📍 Place noted: {place}").format(place=escape(data["place"]))


async def _file(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    data = state.data
    occurred = data.get("occurred_on")
    try:
        with rt.db.session() as s:
            complaint = file_complaint(
                s,
                rt,
                complainant_id=update.effective_user.id,
                complainant_name=user_name(update),
                category=data["category"],
                service_id=data.get("service_id"),
                description=data["description"],
                occurred_on=date.fromisoformat(occurred) if occurred else None,
                evidence=[Evidence(kind, file_id) for kind, file_id in data.get("evidence", [])],
                location=tuple(data["location"]) if data.get("location") else None,
                place=data.get("place"),
                privacy=data["privacy"],
            )
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
            receipt = _receipt(rt, complaint, tr)
            markup = json_markup(complainant_buttons(complaint, tr))
    except ComplaintError as exc:
        await reply_html(update, error_text(exc, tr), main_menu(_))
        return
    await reply_html(update, receipt, markup)


def _receipt(rt: Runtime, complaint: Complaint, tr: Translator) -> str:
    _ = tr.gettext
    category = category_of(rt, complaint.category)
    limits = time_limits(rt, category)
    lines = [
        _("✅ <b>Your complaint has been filed.</b>"),
        _("Ticket number: <b>{ticket}</b>").format(ticket=complaint.ticket),
        "",
    ]
    if category.urgent:
        # What happens now, not a date weeks away: someone senior calls back within hours.
        lines += [
            _("🚨 <b>What happens now</b>"),
            tr.ngettext(
                "A supervisor has been alerted and will contact you within {n} working day, "
                "by <b>{time}</b>.",
                "A supervisor has been alerted and will contact you within {n} working days, "
                "by <b>{time}</b>.",
                limits.response_days,
            ).format(n=limits.response_days, time=tr.datetime(complaint.response_due, rt.tz)),
            _("It should be resolved by {date}. You get a message at every step.").format(
                date=tr.date(complaint.resolve_due, rt.tz)
            ),
        ]
    else:
        lines += [
            _("Expected first response by: <b>{date}</b>").format(
                date=tr.date(complaint.response_due, rt.tz)
            ),
            "",
            _("<b>What happens next</b>"),
            _("1. An officer checks your complaint within {days} working days.").format(
                days=limits.verify_days
            ),
            _("2. It goes to the unit responsible, which answers you here by the date above."),
            _("3. It should be resolved by {date}. You get a message at every step.").format(
                date=tr.date(complaint.resolve_due, rt.tz)
            ),
        ]
    lines += [
        "",
        _("See it or add information any time with /tiket {ticket}.").format(
            ticket=complaint.ticket
        ),
    ]
    if complaint.privacy == ANONYMOUS:
        lines.append(_("Your name is not shown to any officer."))
    return "\n".join(lines)
