"""Officers at the counter: /loket, /panggil (/next), /lewati (/skip), /selesai (/done),
/checkin CODE and /walkin, with buttons on each call."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.core.i18n import Translator
from bot.core.models import ConversationState
from bot.people.conversations import clear_state, set_state
from bot.queue import aftercare, counter, rendering
from bot.queue.buttons import COUNTER, REGISTER, WALK_IN
from bot.queue.models import QueueBooking
from bot.queue.service import QueueError, config_of
from bot.telegram_rules.callback import CallbackData
from handlers.common import reply_html, runtime, staff_only, translator, unknown_button
from handlers.queue.citizen import REASON_LETTERS, error_text, show

# Words an officer may add to /walkin for a priority visitor.
PRIORITY_WORDS = {
    "lansia": "elderly", "elderly": "elderly", "disabilitas": "disability",
    "disability": "disability", "hamil": "pregnant", "pregnant": "pregnant",
    "balita": "toddler", "toddler": "toddler",
}


def _counter_data(action: str, booking_id: int) -> str:
    return CallbackData(COUNTER, action, booking_id).pack()


def _call_markup(booking: QueueBooking, tr: Translator) -> InlineKeyboardMarkup:
    _ = tr.gettext
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(_("✅ Arrived"), callback_data=_counter_data("a", booking.id)),
        InlineKeyboardButton(_("⏭ Skip"), callback_data=_counter_data("s", booking.id)),
        InlineKeyboardButton(_("✔ Done"), callback_data=_counter_data("d", booking.id)),
    ]])


def describe(rt: object, booking: QueueBooking, tr: Translator) -> str:
    _ = tr.gettext
    parts = [_("Number <b>{number}</b>").format(number=rendering.ticket_number(booking)),
             rendering.escape(rendering.service_name(rt, booking.service_id, tr.locale))]
    if booking.priority:
        parts.append(_(rendering.PRIORITY_LABELS[booking.priority_reason]))
    if booking.kind == "walkin":
        parts.append(_("walk-in"))
    elif booking.start:
        parts.append(_("booked {slot}").format(slot=rendering.slot_label(rt, booking.start)))
    return " · ".join(parts)


@staff_only("officer")
async def desk_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    if not context.args:
        await reply_html(update, _("Which counter are you at? For example: /loket 4"))
        return
    try:
        with rt.db.session() as session:
            services = counter.set_desk(session, rt, officer_id=update.effective_user.id,
                                        counter=context.args[0][:8])
    except QueueError as exc:
        await reply_html(update, error_text(tr, exc))
        return
    names = ", ".join(rendering.escape(rendering.service_name(rt, s, tr.locale))
                      for s in services)
    await reply_html(update, _("You are at counter {counter}, calling: {services}.\nCall the "
                               "next citizen with /panggil.").format(
        counter=rendering.escape(context.args[0][:8]), services=names))


@staff_only("officer")
async def next_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    try:
        with rt.db.session() as session:
            booking = counter.call_next(session, rt, officer_id=update.effective_user.id)
    except QueueError as exc:
        await reply_html(update, error_text(tr, exc))
        return
    if booking is None:
        await reply_html(update, _("Nobody is waiting for your counter."))
        return
    text = _("📢 Calling {who} to counter {counter}.").format(
        who=describe(rt, booking, tr), counter=rendering.escape(booking.counter))
    await reply_html(update, text, _call_markup(booking, tr))


async def _finish(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str,
                  booking_id: int | None) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    officer_id = update.effective_user.id
    try:
        with rt.db.session() as session:
            if action == "a":
                booking = counter.arrive(session, rt, officer_id=officer_id,
                                         booking_id=booking_id)
                text = _("{who}: at the counter.").format(who=describe(rt, booking, tr))
                markup = InlineKeyboardMarkup([[InlineKeyboardButton(
                    _("✔ Done"), callback_data=_counter_data("d", booking.id))]])
            elif action == "s":
                booking = counter.skip(session, rt, officer_id=officer_id, booking_id=booking_id)
                text = _("{who}: skipped. Call the next one with /panggil.").format(
                    who=describe(rt, booking, tr))
                markup = None
            else:
                booking = counter.done(session, rt, officer_id=officer_id,
                                       booking_id=booking_id)
                text = _("{who}: done. Call the next one with /panggil.").format(
                    who=describe(rt, booking, tr))
                markup = InlineKeyboardMarkup([[InlineKeyboardButton(
                    _("📝 Register the application"),
                    callback_data=CallbackData(REGISTER, "reg", booking.id).pack())]])
    except QueueError as exc:
        if update.callback_query is not None:
            await update.callback_query.answer(error_text(tr, exc), show_alert=True)
        else:
            await reply_html(update, error_text(tr, exc))
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    await show(update, text, markup)


@staff_only("officer")
async def skip_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _finish(update, context, "s", None)


@staff_only("officer")
async def done_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _finish(update, context, "d", None)


@staff_only("officer")
async def counter_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    data = CallbackData.parse(update.callback_query.data, COUNTER, with_id=("a", "s", "d"))
    if data is None or data.id is None or data.arg is not None:
        await unknown_button(update, context)
        return
    await _finish(update, context, data.action, data.id)


@staff_only("officer")
async def checkin_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    if not context.args:
        await reply_html(update, _("Type the booking code after the command, e.g. "
                                   "/checkin K7QM4P"))
        return
    try:
        with rt.db.session() as session:
            booking, ahead = counter.check_in(session, rt, code="".join(context.args))
            if booking.user_id is not None:
                citizen_tr = Translator(booking.language)
                counter.tell(session, rt, booking,
                             rendering.ticket_text(rt, booking, ahead, citizen_tr),
                             f"queue:ticket:{booking.id}:{int(booking.returned)}")
    except QueueError as exc:
        await reply_html(update, error_text(tr, exc))
        return
    await reply_html(update, _("Checked in: {who}. {count} waiting ahead.").format(
        who=describe(rt, booking, tr), count=ahead))


@staff_only("officer")
async def walkin_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    config = config_of(rt)
    args = [a.lower() for a in context.args or []]
    if config is None:
        await reply_html(update, _("This office does not take bookings in the chat."))
        return
    if not args or args[0] not in config.services:
        rows = [[InlineKeyboardButton(rendering.service_name(rt, sid, tr.locale),
                                      callback_data=CallbackData(WALK_IN, "add", arg=f"{sid}:n")
                                      .pack())] for sid in config.services]
        await reply_html(update, _("A number for a walk-in: which service? For priority, type "
                                   "e.g. /walkin ktp-el lansia (lansia, disabilitas, hamil, "
                                   "balita)."), InlineKeyboardMarkup(rows))
        return
    reason = PRIORITY_WORDS.get(args[1]) if len(args) > 1 else None
    if len(args) > 1 and reason is None:
        await reply_html(update, _("Unknown priority reason. Use lansia, disabilitas, hamil "
                                   "or balita."))
        return
    await _walk_in(update, context, args[0], reason)


async def _walk_in(update: Update, context: ContextTypes.DEFAULT_TYPE, service_id: str,
                   reason: str | None) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    try:
        with rt.db.session() as session:
            booking, ahead = counter.walk_in(session, rt, service_id=service_id,
                                             priority_reason=reason)
    except QueueError as exc:
        await reply_html(update, error_text(tr, exc))
        return
    await show(update, _("🎫 Walk-in: {who}. {count} waiting ahead.").format(
        who=describe(rt, booking, tr), count=ahead), None)


@staff_only("officer")
async def walkin_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    data = CallbackData.parse(update.callback_query.data, WALK_IN)
    fields = data.arg_parts(2) if data is not None and data.action == "add" else None
    config = config_of(rt)
    if (config is None or fields is None or fields[0] not in config.services
            or (fields[1] != "n" and fields[1] not in REASON_LETTERS)):
        await unknown_button(update, context)
        return
    await update.callback_query.answer()
    await _walk_in(update, context, fields[0], REASON_LETTERS.get(fields[1]))



# --- after the service: registering the application ----------------------------------------

APPLICATION_FLOW = "queue_application"


@staff_only("officer")
async def register_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"📝 Register the application" under a finished visit: ask for the applicant's name."""
    rt = runtime(context)
    tr = translator(update, context)
    query = update.callback_query
    data = CallbackData.parse(query.data, REGISTER, with_id=("reg",))
    if data is None or data.action != "reg" or data.id is None or data.arg is not None:
        await unknown_button(update, context)
        return
    with rt.db.session() as session:
        booking = session.get(QueueBooking, data.id)
        if booking is None or booking.called_by != query.from_user.id or booking.status != "done":
            outcome = "unknown"
        elif booking.application_id is not None:
            outcome = "registered"
        else:
            outcome = "ask"
            set_state(session, chat_id=update.effective_chat.id, user_id=query.from_user.id,
                      flow=APPLICATION_FLOW, step="name", data={"booking_id": booking.id})
    if outcome == "unknown":
        await unknown_button(update, context)
        return
    if outcome == "registered":
        await query.answer(tr.gettext("An application was already registered for this "
                                      "visit."), show_alert=True)
        return
    await query.answer()
    await reply_html(update, tr.gettext("Type the applicant's full name, as on their ID card "
                                        "(or /batal):"))


async def application_flow(update: Update, context: ContextTypes.DEFAULT_TYPE,
                           state: ConversationState) -> None:
    from bot.applications.errors import ApplicationError
    from bot.applications.tracking import format_tracking_number

    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    message = update.effective_message
    if not message or not message.text:
        await reply_html(update, _("Type the applicant's full name, as on their ID card "
                                   "(or /batal):"))
        return
    try:
        with rt.db.session() as session:
            application = aftercare.register_from_visit(
                session, rt, booking_id=int(state.data["booking_id"]),
                officer_id=update.effective_user.id, applicant_name=message.text,
                now=rt.now())
            booking = session.get(QueueBooking, int(state.data["booking_id"]))
            number = format_tracking_number(application.tracking_number)
            if booking.user_id is not None:
                citizen_tr = Translator(booking.language)
                counter.tell(session, rt, booking, citizen_tr.gettext(
                    "📝 Your application for {service} is registered. Tracking number: "
                    "<code>{number}</code>. I will tell you here when its status changes."
                ).format(service=rendering.escape(rendering.service_name(
                    rt, booking.service_id, citizen_tr.locale)), number=number),
                    f"queue:application:{booking.id}")
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
    except ApplicationError as exc:
        await reply_html(update, exc.message(tr))
        return
    except QueueError as exc:
        with rt.db.session() as session:
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
        await reply_html(update, error_text(tr, exc))
        return
    await reply_html(update, _("Registered: tracking number <code>{number}</code>. The "
                               "citizen follows it in the chat.").format(number=number))
