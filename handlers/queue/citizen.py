"""Citizens in the chat: booking a visit (/antrean), their bookings (/antreanku) with cancel
and move buttons, check-in by live location, and the one return after a skip."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.conversation.context import load_context
from bot.core.i18n import Translator
from bot.core.text import escape
from bot.queue import counter, rendering
from bot.queue.buttons import CITIZEN, booking_data, step_data
from bot.queue.models import QueueBooking
from bot.queue.notices import banner_lines
from bot.queue.service import (
    QueueError,
    active_bookings,
    cancel,
    config_of,
    move,
    open_days,
    owned_booking,
    rooms,
)
from bot.queue.service import book as book_visit
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    edit_in_place,
    main_menu,
    reply_html,
    runtime,
    translator,
    unknown_button,
)

# One letter per priority reason keeps the button data under Telegram's 64 bytes.
REASON_LETTERS = {"e": "elderly", "d": "disability", "p": "pregnant", "t": "toddler"}
# The booking steps carry the service and what was chosen so far in the arg: how many fields.
STEP_FIELDS = {"s": 1, "b": 1, "d": 2, "t": 3, "p": 4}
# The actions on one of the citizen's bookings carry its id (checked against the presser) and
# this many fields (a move's day, then its slot).
BOOKING_FIELDS = {"x": 0, "xy": 0, "m": 0, "md": 1, "mt": 2, "r": 0}


def _day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


def _parse_day(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _parse_start(text: str) -> str | None:
    if len(text) != 4 or not text.isdigit():
        return None
    return f"{text[:2]}:{text[2:]}"


def _start_code(start: str) -> str:
    return start.replace(":", "")


def error_text(tr: Translator, exc: QueueError) -> str:
    return tr.gettext(exc.msgid).format(**exc.values)


async def show(update: Update, text: str, markup: InlineKeyboardMarkup | None, *,
               edit: bool = True) -> None:
    """Step screens replace the message the button was on; a command gets a new message."""
    query = update.callback_query
    if edit and query is not None and query.message is not None:
        await edit_in_place(
            query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                    disable_web_page_preview=True)
        )
    else:
        await reply_html(update, text, markup)


# --- booking -------------------------------------------------------------------------------


def services_markup(rt: object, tr: Translator, first: str | None = None) -> InlineKeyboardMarkup:
    """The bookable services, the one the dialogue is about (``first``) on top."""
    config = config_of(rt)
    order = sorted(config.services, key=lambda sid: sid != first)
    rows = [
        [InlineKeyboardButton(rendering.service_name(rt, sid, tr.locale),
                              callback_data=step_data("s", sid))]
        for sid in order
    ]
    return InlineKeyboardMarkup(rows)


def _start_text(rt: object, tr: Translator, subject: str | None) -> str:
    _ = tr.gettext
    with rt.db.session() as session:
        banners = banner_lines(session, rt, None, tr, rt.now())
    lines = [*banners, _("🎫 <b>Book a visit</b>")]
    if subject is None:
        lines.append(_("Which service do you need?"))
    else:
        lines.append(_("You were asking about {service}: it is first below. Or choose another "
                       "service.").format(
            service=f"<b>{escape(rendering.service_name(rt, subject, tr.locale))}</b>"))
    return "\n".join(lines)


def conversation_subject(rt: object, chat_id: int | None) -> str | None:
    """The bookable service the chat's dialogue is about, if any."""
    if chat_id is None:
        return None
    service_id = load_context(rt.db, chat_id).service_id  # the conversation's own clock
    return service_id if service_id in config_of(rt).services else None


async def queue_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/antrean, and the main menu's button (which leaves the menu where it is). The service the
    citizen was asking about comes first."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    if update.callback_query is not None:
        await update.callback_query.answer()
    if config_of(rt) is None:
        await reply_html(update, _("This office does not take bookings in the chat."),
                         main_menu(_))
        return
    subject = conversation_subject(rt, update.effective_chat.id if update.effective_chat else None)
    await reply_html(update, _start_text(rt, tr, subject), services_markup(rt, tr, subject))


# A button's data for a day (a day code) or a slot (a day code and a start code).
DayData = Callable[[str], str]
SlotData = Callable[[str, str], str]


def _days_markup(tr: Translator, days: list[date], data: DayData) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(rendering.short_day(tr, d), callback_data=data(_day_code(d)))
               for d in days]
    return InlineKeyboardMarkup([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def _slots_markup(rt: object, slots: list, data: SlotData, day: date) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(f"{rendering.slot_label(rt, s.start)} · {s.seats_left}",
                             callback_data=data(_day_code(day), _start_code(s.start)))
        for s in slots
    ]
    return InlineKeyboardMarkup([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


async def _choose_day(update: Update, context: ContextTypes.DEFAULT_TYPE, service_id: str,
                      *, edit: bool = True) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    now = rt.now()
    with rt.db.session() as session:
        days = open_days(session, rt, service_id, now, priority=True)
        banners = banner_lines(session, rt, service_id, tr, now)
    name = rendering.escape(rendering.service_name(rt, service_id, tr.locale))
    if not days:
        await show(update, "\n".join([*banners, _("<b>{service}</b>\nSorry, every day I can "
                                                   "book is full. Please try again tomorrow.")
                                       .format(service=name)]), None, edit=edit)
        return
    text = "\n".join([*banners, _("<b>{service}</b>\nWhich day? (only days with seats left)")
                      .format(service=name)])
    markup = _days_markup(tr, days, lambda day: step_data("d", service_id, day))
    await show(update, text, markup, edit=edit)


async def _choose_slot(update: Update, context: ContextTypes.DEFAULT_TYPE, service_id: str,
                       day: date) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    with rt.db.session() as session:
        slots = rooms(session, rt, service_id, day, rt.now(), priority=True)
    if not slots:
        await show(update, _("Sorry, that day has just been filled. Please start again with "
                              "/antrean."), None)
        return
    text = _("{day}: which time? The number is the seats left.").format(
        day=rendering.day_label(tr, day))
    markup = _slots_markup(rt, slots, lambda day, start: step_data("t", service_id, day, start),
                           day)
    await show(update, text, markup)


async def _ask_priority(update: Update, context: ContextTypes.DEFAULT_TYPE, service_id: str,
                        day: date, start: str) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    base = (service_id, _day_code(day), _start_code(start))
    rows = [[InlineKeyboardButton(_(rendering.PRIORITY_LABELS[reason]),
                                  callback_data=step_data("p", *base, letter))]
            for letter, reason in REASON_LETTERS.items()]
    rows.append([InlineKeyboardButton(_("No, regular queue"),
                                      callback_data=step_data("p", *base, "n"))])
    text = _("Do you need priority service? Priority is for the elderly (60+), people with "
             "disabilities, pregnant women and parents with a toddler. They are called first; "
             "no proof is needed.")
    await show(update, text, InlineKeyboardMarkup(rows))


async def _book(update: Update, context: ContextTypes.DEFAULT_TYPE, service_id: str,
                day: date, start: str, letter: str) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    user = update.effective_user
    if letter != "n" and letter not in REASON_LETTERS:
        await unknown_button(update, context)
        return
    reason = REASON_LETTERS.get(letter)
    try:
        with rt.db.session() as session:
            booking = book_visit(session, rt, user_id=user.id, language=tr.locale,
                                 service_id=service_id, day=day, start=start,
                                 priority_reason=reason)
    except QueueError as exc:
        await update.callback_query.answer()
        await show(update, error_text(tr, exc), None)
        return
    await update.callback_query.answer()
    await show(update, tr.gettext("✅ Booked: {line}").format(
        line=rendering.booking_line(rt, booking, tr)), None)
    await send_confirmation(update, rt, booking, tr)


async def send_confirmation(update: Update, rt: object, booking: object, tr: Translator) -> None:
    chat = update.effective_chat
    await chat.send_photo(
        InputFile(io.BytesIO(rendering.qr_png(booking.code)), filename=f"{booking.code}.png"),
        caption=tr.gettext("QR code of booking {code}").format(code=booking.code),
    )
    await reply_html(update, rendering.confirmation_text(rt, booking, tr))


async def queue_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every q: button. Service ids, days and slots are checked by the booking rules; ids of
    bookings against the presser."""
    query = update.callback_query
    rt = runtime(context)
    config = config_of(rt)
    data = CallbackData.parse(query.data, CITIZEN, with_id=BOOKING_FIELDS)
    if config is None or data is None:
        await unknown_button(update, context)
        return
    action = data.action
    if action == "mine" and data.arg is None:
        await query.answer()
        await my_bookings(update, context)
        return
    if action in BOOKING_FIELDS:
        fields = BOOKING_FIELDS[action]
        rest = data.arg_parts(fields) if fields else (() if data.arg is None else None)
        if rest is None:
            await unknown_button(update, context)
        else:
            await _booking_action(update, context, action, data.id, list(rest))
        return
    args = data.arg_parts(STEP_FIELDS[action]) if action in STEP_FIELDS else None
    if args is None or args[0] not in config.services:
        await unknown_button(update, context)
        return
    if action in ("s", "b"):
        await query.answer()
        # From an answer about the service ("b"): the answer stays, the booking starts below.
        await _choose_day(update, context, args[0], edit=action == "s")
    elif action == "d" and (day := _parse_day(args[1])):
        await query.answer()
        await _choose_slot(update, context, args[0], day)
    elif action == "t" and (day := _parse_day(args[1])) and (start := _parse_start(args[2])):
        await query.answer()
        await _ask_priority(update, context, args[0], day, start)
    elif action == "p" and (day := _parse_day(args[1])) and (start := _parse_start(args[2])):
        await _book(update, context, args[0], day, start, args[3])
    else:
        await unknown_button(update, context)


# --- my bookings ---------------------------------------------------------------------------


def bookings_view(rt: object, bookings: list, tr: Translator) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    if not bookings:
        return _("You have no bookings. Book a visit with /antrean."), InlineKeyboardMarkup([])
    lines = [_("<b>Your bookings</b>")]
    rows = []
    for booking in bookings:
        lines.append(rendering.booking_line(rt, booking, tr))
        if booking.status in ("booked", "closed"):
            rows.append([
                InlineKeyboardButton(_("📅 Move {code}").format(code=booking.code),
                                     callback_data=booking_data("m", booking.id)),
                InlineKeyboardButton(_("✖ Cancel {code}").format(code=booking.code),
                                     callback_data=booking_data("x", booking.id)),
            ])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def my_bookings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    with rt.db.session() as session:
        bookings = active_bookings(session, update.effective_user.id, rt.now(), rt)
    text, markup = bookings_view(rt, bookings, tr)
    await reply_html(update, text, markup)


async def _booking_action(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str,
                          booking_id: int, rest: list[str]) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    query = update.callback_query
    user_id = query.from_user.id
    with rt.db.session() as session:
        mine = session.get(QueueBooking, booking_id)
        theirs = mine is not None and mine.user_id == user_id
    if not theirs:
        await unknown_button(update, context)  # someone else's booking, or forged
        return
    markup: InlineKeyboardMarkup | None = None
    try:
        # The unit of work ends before anything is sent (bot/core/db.py): what to say is
        # decided inside, said after.
        with rt.db.session() as session:
            booking = owned_booking(session, booking_id, user_id)
            if action == "x":
                markup = InlineKeyboardMarkup([[
                    InlineKeyboardButton(_("Yes, cancel it"),
                                         callback_data=booking_data("xy", booking_id)),
                ]])
                text = _("Cancel this booking?\n{line}").format(
                    line=rendering.booking_line(rt, booking, tr))
            elif action == "xy":
                cancel(session, rt, booking_id=booking_id, user_id=user_id)
                text = _("Your booking {code} is cancelled. The seat is free for someone "
                         "else now.").format(code=booking.code)
            elif action == "m":
                days = open_days(session, rt, booking.service_id, rt.now(),
                                 priority=booking.priority)
                if not days:
                    text = _("Sorry, every day I can book is full.")
                else:
                    text = _("Move {code} to which day?").format(code=booking.code)
                    markup = _days_markup(tr, days,
                                          lambda day: booking_data("md", booking_id, day))
            elif action == "md" and len(rest) == 1 and (day := _parse_day(rest[0])):
                service_id, priority = booking.service_id, booking.priority
                slots = rooms(session, rt, service_id, day, rt.now(), priority=priority)
                if not slots:
                    text = _("Sorry, that day has just been filled.")
                else:
                    text = _("{day}: which time? The number is the seats left.").format(
                        day=rendering.day_label(tr, day))
                    markup = _slots_markup(
                        rt, slots, lambda day, start: booking_data("mt", booking_id, day, start),
                        day,
                    )
            elif (action == "mt" and len(rest) == 2 and (day := _parse_day(rest[0]))
                  and (start := _parse_start(rest[1]))):
                moved = move(session, rt, booking_id=booking_id, user_id=user_id, day=day,
                             start=start)
                text = _("Moved. {line}").format(line=rendering.booking_line(rt, moved, tr))
            elif action == "r":
                returned, ahead = counter.return_to_queue(session, rt, booking_id=booking_id,
                                                          user_id=user_id)
                text = rendering.ticket_text(rt, returned, ahead, tr)
            else:
                text = None
    except QueueError as exc:
        await query.answer()
        await show(update, error_text(tr, exc), None)
        return
    if text is None:
        await unknown_button(update, context)
        return
    await query.answer()
    await show(update, text, markup)


# --- check-in by live location -------------------------------------------------------------


def is_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    message = update.effective_message
    return bool(message and message.location)


async def location_check_in(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    location = update.effective_message.location
    if config_of(rt) is None:
        await reply_html(update, _("I can only read text messages here. Type your question."))
        return
    # Read from the raw fields: the attribute warns of its type changing in PTB 23.
    if not location.to_dict().get("live_period"):
        await reply_html(update, _("To check in, share your <b>live</b> location (📎 → "
                                   "Location → Share my live location) when you are at the "
                                   "office."))
        return
    try:
        with rt.db.session() as session:
            booking, ahead = counter.check_in_by_location(
                session, rt, user_id=update.effective_user.id,
                lat=location.latitude, lon=location.longitude)
    except QueueError as exc:
        await reply_html(update, error_text(tr, exc))
        return
    await reply_html(update, rendering.ticket_text(rt, booking, ahead, tr))


# --- additions to answers about a service (handlers/qa.py) ----------------------------------


def answer_banners(rt: object, service_id: str | None, tr: Translator) -> list[str]:
    """Disruption notices in force for the service (or the whole office), on top."""
    if service_id is None or service_id not in rt.knowledge.services:
        return []
    with rt.db.session() as session:
        return banner_lines(session, rt, service_id, tr, rt.now())


def book_button(rt: object, service_id: str, tr: Translator) -> list[InlineKeyboardButton]:
    """A bookable service's answer offers to book it straight away."""
    config = config_of(rt)
    if config is None or service_id not in config.services:
        return []
    label = tr.gettext("🎫 Book a visit")
    return [InlineKeyboardButton(label, callback_data=step_data("b", service_id))]
