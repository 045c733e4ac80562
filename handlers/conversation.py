"""The conversation in the chat: every question read in the light of the last answer, life
events, entries, small talk, complaints hidden in questions, the office open on a day, and a
question typed in the middle of a flow (answered, or the citizen chooses)."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.complaints.vocabulary import categories
from bot.conversation import understander_of
from bot.conversation.context import (
    DialogueContext,
    clear_context,
    load_context,
    save_context,
)
from bot.conversation.render import (
    Reply,
    menu_row,
    render_entry,
    render_open_day,
    render_parts,
    render_situation,
    requirement_group,
)
from bot.conversation.understanding import QUESTION_WORDS, Understanding
from bot.core.i18n import Translator
from bot.core.runtime import Runtime
from bot.qa.answers import TOPIC_TITLES, render_answer
from bot.qa.knowledge import OFFICE_ID, Service
from bot.qa.matching import Match, tokens_of
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    GROUP_FEATURES,
    current_flow,
    main_menu,
    reply_html,
    runtime,
    translator,
    unknown_button,
)
from handlers.feedback import with_feedback
from handlers.qa import banners, service_buttons
from handlers.registry import registry, registry_of

PREFIX = "cv"  # this feature's buttons
MAX_QUESTION = 500  # characters read from a question; longer text is not a question
GROUP_FORGET = GROUP_FEATURES - 5  # before the features: a command or a flow clears the context
GROUP_IN_FLOW = GROUP_FEATURES - 1  # before the flows see a message
# Flows where a citizen types free text; a question there gets a choice instead of being taken.
CITIZEN_FLOWS = frozenset(("complaint", "complaint_add", "survey"))
# Which complaint category a recognised intent files under, first key the office has.
COMPLAINT_CATEGORIES = {
    "levy": ("illegal_levy", "pungli", "biaya", "fee"),
    "behaviour": ("behaviour", "petugas"),
    "slow": ("slow_service", "pelayanan"),
}


def _markup(reply: Reply) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row]
         for row in reply.rows]
    )


async def _send(
    update: Update, reply: Reply, markup: InlineKeyboardMarkup | None = None
) -> None:
    chat = update.effective_chat
    if reply.venue and chat is not None:
        await chat.send_venue(
            latitude=reply.venue["latitude"], longitude=reply.venue["longitude"],
            title=reply.venue["title"], address=reply.venue["address"],
        )
    await reply_html(update, reply.html, markup or _markup(reply))


# --- reading a message ---------------------------------------------------------------------


def is_text_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    message = update.effective_message
    return bool(message and message.text and not message.text.startswith("/"))


async def answer_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await respond(update, context, update.effective_message.text[:MAX_QUESTION])


async def respond(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, *, complaints: bool = True
) -> None:
    """Understand ``text`` in the chat's context, answer it and remember what it was about."""
    rt = runtime(context)
    tr = translator(update, context)
    chat_id = update.effective_chat.id
    remembered = load_context(rt.db, chat_id)
    now = rt.now()
    reading = understander_of(rt).understand(
        text, remembered, today=now.astimezone(rt.tz).date(), complaints=complaints
    )
    # The status feature's: a status question, or a tracking number typed as a message.
    from handlers.applications.citizens import holds_tracking_number, status_from_text

    if reading.kind == "status" or holds_tracking_number(text):
        await status_from_text(update, context, text)
        return
    reply, remember = _reply_for(rt, reading, remembered, text, tr, now)
    if not remember.empty:
        save_context(rt.db, chat_id, remember)  # also a new start for the 30 minutes' silence
    elif not remembered.empty:
        clear_context(rt.db, chat_id)
    markup = _markup(reply)
    about = _answered(reading)
    service_id = about[0].service_id if about is not None else None
    if service_id is not None and service_id in rt.knowledge.services:
        # What other features add to an answer about a service: the queue's disruption notice
        # on top, its "Book a visit" button under it.
        reply.html = banners(context, service_id, tr) + reply.html
        extra = service_buttons(context, service_id, tr)
        markup = InlineKeyboardMarkup([*([button] for button in extra), *markup.inline_keyboard])
    if about is not None:  # 👍/👎 under an answer, "Ask an officer" under "not understood"
        match, no_service = about
        markup = await with_feedback(update, context, text, match, markup, answered=no_service)
    await _send(update, reply, markup)


def _answered(reading: Understanding) -> tuple[Match, bool] | None:
    """What an answer was about, for the feedback under it (and whether it answered without
    a service: a life event, an entry); None for a reply that is no answer (small talk, a
    complaint offered, a choice asked)."""
    if reading.kind == "answer":
        first = reading.parts[0]
        return Match(first.service_id, first.topic, 90.0), False
    if reading.kind == "office":
        return Match(OFFICE_ID, reading.topic, 90.0), False
    if reading.kind == "open_day":
        return Match(reading.service_id or OFFICE_ID, "hours", 90.0), False
    if reading.kind in ("situation", "entry"):
        return Match(None, None, 90.0), True
    if reading.kind == "unknown":
        return Match(None, None, 0.0, reading.suggestions), False
    return None




def _reply_for(
    rt: Runtime, reading: Understanding, remembered: DialogueContext, text: str, tr: Translator,
    now: datetime,
) -> tuple[Reply, DialogueContext]:
    """The reply, and the context to keep after it (a pending choice is dropped by any new
    message)."""
    _ = tr.gettext
    kb = rt.knowledge
    keep = DialogueContext(remembered.service_id, remembered.topic, remembered.variant)
    if reading.kind == "answer":
        last = reading.parts[-1]
        reply = render_parts(kb, understander_of(rt), reading.parts, tr, rt.tz)
        return reply, DialogueContext(last.service_id, last.topic, last.variant)
    if reading.kind == "office":
        answer = render_answer(kb, Match(OFFICE_ID, reading.topic, 90.0), tr, rt.tz)
        return Reply(answer.html, [menu_row(tr)], answer.venue), keep
    if reading.kind == "situation":
        return render_situation(kb, understander_of(rt).library.situations[reading.target],
                                tr), DialogueContext()
    if reading.kind == "entry":
        return render_entry(understander_of(rt).library, reading.target, tr), keep
    if reading.kind == "small_talk":
        return Reply(_small_talk(reading.target, tr), [menu_row(tr)]), keep
    if reading.kind == "open_day":
        service = kb.services.get(reading.service_id or "")
        return render_open_day(kb, rt.calendar, reading.day, service, tr, now), keep
    if reading.kind == "complaint":
        pending = DialogueContext(reading.service_id, None, (), f"c:{reading.target}", text)
        return _complaint_offer(reading.target, tr), pending
    if reading.kind == "clarify":
        rows = [[(f"{_(TOPIC_TITLES[o.topic])} · {kb.services[o.service_id].name(tr.locale)}",
                  CallbackData("svc", "topic", arg=f"{o.service_id}:{o.topic}").pack())]
                for o in reading.options]
        text = _("Sorry, I am not sure what you are asking about.") + "\n" + _("Did you mean:")
        return Reply(text, [*rows, menu_row(tr)]), keep
    answer = render_answer(kb, Match(None, None, 0.0, reading.suggestions), tr, rt.tz)
    rows = [[(kb.services[s].name(tr.locale), CallbackData("svc", "card", arg=s).pack())]
            for s in answer.suggestions]
    # Not understood: the whole menu, to browse instead.
    menu = [[(b.text, b.callback_data) for b in row]
            for row in main_menu(tr.gettext).inline_keyboard]
    return Reply(answer.html, [*rows, *menu]), keep


def _small_talk(kind: str | None, tr: Translator) -> str:
    _ = tr.gettext
    if kind == "thanks":
        return _("You're welcome! Ask me again whenever you need to know about our services.")
    if kind == "goodbye":
        return _("Goodbye, and thank you for contacting us!")
    if kind == "acknowledge":
        return _("All right. Is there anything else I can help you with?")
    return _("Hello! How can I help you? Ask me about a service, for example "
             "<i>syarat KTP</i> or <i>biaya paspor</i>.")


async def offer_complaint(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, *, reason: str,
    service_id: str | None = None,
) -> None:
    """Offer to file ``text`` as a complaint in one press (a survey suggestion that reports an
    illegal fee, say)."""
    rt = runtime(context)
    remembered = load_context(rt.db, update.effective_chat.id)
    save_context(rt.db, update.effective_chat.id, DialogueContext(
        service_id, remembered.topic, (), f"c:{reason}", text))
    await _send(update, _complaint_offer(reason, translator(update, context)))


def _complaint_offer(reason: str | None, tr: Translator) -> Reply:
    _ = tr.gettext
    if reason == "levy":
        text = _("Asking for money beyond the official fee (pungli) is not allowed. I can file "
                 "a complaint with your message in one step; you choose who may see your name.")
    else:
        text = _("It sounds like you want to file a complaint. I can start one with your "
                 "message; you can add details before sending it.")
    return Reply(text, [[(_("📣 File a complaint"), CallbackData(PREFIX, "complain").pack())],
                        [(_("❓ No, I have a question"), CallbackData(PREFIX, "ask").pack())],
                        menu_row(tr)])


# --- buttons ---------------------------------------------------------------------------------


async def conversation_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """cv:* buttons; a stale or forged one changes nothing."""
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    pressed = CallbackData.parse(query.data, PREFIX)
    action = pressed.action if pressed is not None and pressed.arg is None else None
    chat_id = update.effective_chat.id
    if action == "menu":
        await query.answer()
        await reply_html(update, tr.gettext("What would you like to do?"),
                         main_menu(tr.gettext))
        return
    group = _requirement_group_of(rt, pressed)
    if group is not None:
        await query.answer()
        service, index = group
        html, rows, _venue = requirement_group(service, index, tr)
        save_context(rt.db, chat_id, DialogueContext(service.id, "requirements"))
        await _send(update, Reply(html, [*rows, menu_row(tr)]))
        return
    remembered = load_context(rt.db, chat_id)
    pending = remembered.pending_text
    kind = remembered.pending_kind or ""
    if action == "complain" and pending and kind.startswith("c:"):
        await query.answer()
        clear_context(rt.db, chat_id)
        from handlers.complaints.citizen import begin_filing

        await begin_filing(
            update, context, pending, category=_category_key(rt, kind[2:]),
            service_id=remembered.service_id,
        )
        return
    if action == "ask" and pending and kind.startswith("c:"):
        await query.answer()
        await respond(update, context, pending, complaints=False)
        return
    if action in ("fq", "fa") and pending and kind == "flow":
        state = current_flow(update, context)
        flows = registry(context).flows
        if state is not None and state.flow in flows:
            await query.answer()
            save_context(rt.db, chat_id, DialogueContext(remembered.service_id,
                                                         remembered.topic, remembered.variant))
            if action == "fa":
                await flows[state.flow](_as_message(update, context, pending), context, state)
                return
            await respond(update, context, pending, complaints=False)
            await reply_html(update, tr.gettext(
                "What you were filling in is still open: continue where you left off, or send "
                "/batal to cancel it."))
            return
    await unknown_button(update, context)


def _requirement_group_of(
    rt: Runtime, pressed: CallbackData | None
) -> tuple[Service, int] | None:
    """The service and requirement group of a cv:req button; None for any other press, or a
    service or group that does not exist (any more)."""
    fields = pressed.arg_parts(2) if pressed is not None and pressed.action == "req" else None
    if fields is None:
        return None
    service = rt.knowledge.services.get(fields[0])
    if service is None or not (fields[1].isascii() and fields[1].isdigit()):
        return None
    index = int(fields[1])
    return (service, index) if index < len(service.requirements) else None


def _category_key(rt: Runtime, reason: str) -> str | None:
    keys = {c.key for c in categories(rt)}
    return next((k for k in COMPLAINT_CATEGORIES.get(reason, ()) if k in keys), None)


def _as_message(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> Update:
    """The citizen's kept message as if sent again, for the flow that asked for it."""
    shown = update.callback_query.message
    message = Message(message_id=shown.message_id, date=shown.date, chat=shown.chat,
                      from_user=update.callback_query.from_user, text=text)
    message.set_bot(context.bot)
    return Update(update_id=update.update_id, message=message)


# --- a question in the middle of a flow, and what clears the context ---------------------------


def looks_like_question(rt: Runtime, text: str) -> bool:
    """A question the bot can answer, asked as a question (not a complaint's description)."""
    raw = tokens_of(text)
    if not raw or not ("?" in text or QUESTION_WORDS.intersection(raw[:3])):
        return False
    today = rt.now().astimezone(rt.tz).date()
    reading = understander_of(rt).understand(text, None, today=today)
    return reading.kind in ("answer", "office", "situation", "entry", "open_day", "status")


async def question_in_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Before a citizen's flow takes a message: a question gets a choice, not swallowed as the
    flow's next answer."""
    state = current_flow(update, context)
    if state is None or state.flow not in CITIZEN_FLOWS:
        return
    rt = runtime(context)
    text = update.effective_message.text[:MAX_QUESTION]
    if not looks_like_question(rt, text):
        return
    tr = translator(update, context)
    _ = tr.gettext
    remembered = load_context(rt.db, update.effective_chat.id)
    save_context(rt.db, update.effective_chat.id, DialogueContext(
        remembered.service_id, remembered.topic, remembered.variant, "flow", text))
    await _send(update, Reply(
        _("Is this a new question, or your answer to what I asked?"),
        [[(_("❓ Answer my question"), CallbackData(PREFIX, "fq").pack())],
         [(_("✍️ It is my answer"), CallbackData(PREFIX, "fa").pack())]],
    ))
    raise ApplicationHandlerStop


async def forget_context(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, /batal and any command or menu button that opens a flow: a new subject. The
    commands a feature registered as acting on the subject (/antrean) keep it."""
    if update.effective_chat is None:
        return
    text = update.effective_message.text if update.effective_message is not None else None
    if text and text.startswith("/") and len(text) > 1:
        name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
        if name in registry(context).subject_commands:
            return
    clear_context(runtime(context).db, update.effective_chat.id)


def register(app: Application) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private & filters.COMMAND, forget_context), GROUP_FORGET)
    app.add_handler(
        CallbackQueryHandler(forget_context, pattern=r"^menu:(complaint|survey|status)$"),
        GROUP_FORGET,
    )
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, question_in_flow),
        GROUP_IN_FLOW,
    )
    app.add_handler(
        CallbackQueryHandler(conversation_button, pattern=rf"^{PREFIX}:"), GROUP_FEATURES
    )
    # Free text is a question unless the user is in a flow (common.route_message sees to that).
    registry_of(app).add_message_route(is_text_question, answer_message)
