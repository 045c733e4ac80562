"""Complaints in the chat: the citizen's guided filing, tickets, and the officers' buttons."""

from __future__ import annotations

import logging
import zlib
from datetime import date, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot import complaints as cp
from bot.conversations import clear_state, get_state, set_state
from bot.i18n import N_, Translator
from bot.models import ConversationState, utcnow
from bot.runtime import Runtime
from bot.text import TELEGRAM_TEXT_LIMIT, escape, split_message
from handlers.common import (
    CITIZEN_COMMANDS,
    GROUP_FEATURES,
    main_menu,
    register_flow,
    reply_html,
    runtime,
    staff_only,
    translator,
    unknown_button,
)

log = logging.getLogger(__name__)

FLOW = "complaint"  # the citizen's filing
ADD_FLOW = "complaint_add"  # the citizen adds to a ticket
OFFICER_FLOW = "complaint_officer"  # an officer's reply / answer / reason, typed next
STEPS = ("category", "service", "description", "when", "evidence", "location", "privacy", "confirm")
ESCALATION_INTERVAL = 15 * 60  # seconds; the jobs only queue messages, the sender sends them
SILENT_CLOSE_INTERVAL = 60 * 60

CITIZEN_COMMANDS.extend(
    [
        ("pengaduan", "complaint", N_("File a complaint")),
        ("tiket", "ticket", N_("Your complaint tickets")),
    ]
)


def _markup(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def _json_markup(markup: dict[str, Any] | None) -> InlineKeyboardMarkup | None:
    """The domain's Bot API JSON keyboard as python-telegram-bot's object."""
    if not markup:
        return None
    return _markup(
        [[(b["text"], b["callback_data"]) for b in row] for row in markup["inline_keyboard"]]
    )


def error_text(exc: cp.ComplaintError, tr: Translator) -> str:
    """What a refused action means, in words the person can act on."""
    _ = tr.gettext
    d = exc.detail
    messages = {
        "too_short": _(
            "Please write at least {minimum} characters (you wrote {length}): what happened, "
            "where, and who was involved."
        ),
        "too_long": _("That is {length} characters; the limit is {maximum}. Please shorten it."),
        "empty": _("Please write some text."),
        "bad_date": _("I could not read that date. Write it like 17/08/2026, or press Skip."),
        "future_date": _("That date is in the future. Write the day it happened, or press Skip."),
        "bad_location": _("That location is not valid. Send it again, or press Skip."),
        "daily_limit": _(
            "You have already filed {limit} complaints today, the daily limit. Please continue "
            "tomorrow, or add information to an open ticket with /tiket."
        ),
        "already_yours": _("You already handle this ticket."),
        "taken_by_other": _(
            "Another officer already handles this ticket; a supervisor can reassign it."
        ),
        "not_your_ticket": _("You cannot handle this ticket: it belongs to another unit."),
        "unknown_ticket": _("No such ticket."),
        "unknown_officer": _("That person has no staff role; add them with /officer add first."),
        "illegal_move": _("This cannot be done now: the ticket is {status}."),
    }
    text = messages.get(exc.code, _("That choice is no longer valid. Please start again."))
    status = d.get("status")
    return text.format(
        **{**d, "status": _(cp.STATUS_LABELS[status]) if status in cp.STATUS_LABELS else ""}
    )


def _user_name(update: Update) -> str | None:
    user = update.effective_user
    return user.full_name if user is not None else None


async def _say(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    await reply_html(update, text, markup)


# --- the citizen's filing flow ----------------------------------------------------------------


def _service_choices(rt: Runtime) -> list[str]:
    services = getattr(rt.knowledge, "services", None) or {}
    return list(services)


def _question(
    rt: Runtime, step: str, data: dict[str, Any], tr: Translator
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The prompt of one step of the filing flow, with its buttons."""
    _ = tr.gettext
    skip = _("⏭ Skip")
    if step == "category":
        rows = [[(c.title(tr), f"cf:cat:{c.key}")] for c in cp.categories(rt)]
        return _("📣 <b>New complaint</b>\nWhat is it about?"), _markup(rows)
    if step == "service":
        rows = [
            [(cp.service_name(rt, sid, tr.locale) or sid, f"cf:svc:{i}")]
            for i, sid in enumerate(data.get("services", []))
        ]
        rows.append([(_("No particular service"), "cf:svc:none")])
        return _("Which service is it about?"), _markup(rows)
    if step == "description":
        return (
            _(
                "Describe what happened: where, when and who was involved "
                "({minimum}–{maximum} characters)."
            ).format(minimum=cp.DESCRIPTION_MIN, maximum=cp.DESCRIPTION_MAX),
            None,
        )
    if step == "when":
        return (
            _("When did it happen? Write the date, like 17/08/2026, or press Skip."),
            _markup([[(skip, "cf:when:skip")]]),
        )
    if step == "evidence":
        count = len(data.get("evidence", []))
        text = _(
            "You may send photos or documents as evidence (up to {max}). Press Done when "
            "finished, or if you have none."
        ).format(max=cp.MAX_EVIDENCE)
        if count:
            text = (
                tr.ngettext("Received {n} file.", "Received {n} files.", count).format(n=count)
                + " "
                + text
            )
        return text, _markup([[(_("✔️ Done"), "cf:ev:done")]])
    if step == "location":
        return (
            _("Where did it happen? You may share a location (📎 → Location), or press Skip."),
            _markup([[(skip, "cf:loc:skip")]]),
        )
    if step == "privacy":
        lines = [_("Who may see your name?"), ""]
        for choice in cp.PRIVACY_CHOICES:
            lines.append(f"<b>{_(cp.PRIVACY_LABELS[choice])}</b>: {_(cp.PRIVACY_NOTES[choice])}")
        rows = [[(_(cp.PRIVACY_LABELS[c]), f"cf:priv:{c}")] for c in cp.PRIVACY_CHOICES]
        return "\n".join(lines), _markup(rows)
    if step == "confirm":
        return _summary(rt, data, tr), _markup(
            [[(_("📨 Send complaint"), "cf:ok"), (_("✖️ Cancel"), "cf:no")]]
        )
    raise ValueError(f"unknown complaint step {step!r}")


def _summary(rt: Runtime, data: dict[str, Any], tr: Translator) -> str:
    _ = tr.gettext
    category = cp.category_of(rt, data["category"])
    lines = [
        _("<b>Please check your complaint</b>"),
        _("Category: {category}").format(category=escape(category.title(tr))),
    ]
    service = cp.service_name(rt, data.get("service_id"), tr.locale)
    if service:
        lines.append(_("Service: {service}").format(service=escape(service)))
    if data.get("occurred_on"):
        day = date.fromisoformat(data["occurred_on"])
        lines.append(_("Happened on: {date}").format(date=cp.format_day(day, tr)))
    evidence = len(data.get("evidence", []))
    if evidence:
        lines.append(
            tr.ngettext("Evidence: {n} file", "Evidence: {n} files", evidence).format(n=evidence)
        )
    if data.get("location"):
        lines.append(
            _("Location: {lat}, {lon}").format(lat=data["location"][0], lon=data["location"][1])
        )
    privacy = data["privacy"]
    lines.append(_("Privacy: {privacy}").format(privacy=_(cp.PRIVACY_LABELS[privacy])))
    lines.append(f"<i>{_(cp.PRIVACY_NOTES[privacy])}</i>")
    lines += ["", escape(data["description"])]
    return "\n".join(lines)


def _next_step(step: str, data: dict[str, Any]) -> str:
    following = STEPS[STEPS.index(step) + 1]
    if following == "service" and not data.get("services"):
        following = "description"
    if following == "description" and data.get("description"):
        following = "when"  # carried over from the message that was recognised as a complaint
    return following


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
        )
    text, markup = _question(rt, step, data, tr)
    await _say(update, text, markup)


async def complaint_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pengaduan, /complaint and the menu button: start filing (private chats only)."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    rt = runtime(context)
    tr = translator(update, context)
    if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
        await _say(update, tr.gettext("Please file complaints in a private chat with me."))
        return
    try:
        with rt.db.session() as s:
            cp.check_daily_limit(s, rt, update.effective_user.id, utcnow())
    except cp.LimitReached as exc:
        await _say(update, error_text(exc, tr), main_menu(tr.gettext))
        return
    data = {"services": _service_choices(rt), "evidence": []}
    await _go(update, context, "category", data)


async def begin_with_description(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    description: str,
    *,
    category: str | None = None,
    service_id: str | None = None,
) -> None:
    """Start filing with the citizen's own words carried over, from a message recognised as a
    complaint (handlers/conversation.py); what is already known is not asked again."""
    rt = runtime(context)
    tr = translator(update, context)
    try:
        with rt.db.session() as s:
            cp.check_daily_limit(s, rt, update.effective_user.id, utcnow())
    except cp.LimitReached as exc:
        await _say(update, error_text(exc, tr), main_menu(tr.gettext))
        return
    data: dict[str, Any] = {"services": _service_choices(rt), "evidence": []}
    try:
        data["description"] = cp.clean_description(description)
    except cp.InvalidInput:
        pass  # too short or too long: the description step asks for it
    step = "category"
    if category in {c.key for c in cp.categories(rt)}:
        data["category"] = category
        step = _next_step("category", data)
        if step == "service" and service_id in data["services"]:
            data["service_id"] = service_id
            step = _next_step("service", data)
    await _go(update, context, step, data)


def _open_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> ConversationState | None:
    with runtime(context).db.session() as s:
        return get_state(s, chat_id=update.effective_chat.id, user_id=update.effective_user.id)


async def flow_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """cf:<step>:<value>: a choice in the filing flow; stale or forged ones change nothing."""
    query = update.callback_query
    state = _open_flow(update, context)
    parts = (query.data or "").split(":")
    if state is None or state.flow != FLOW or len(parts) < 2:
        await unknown_button(update, context)
        return
    rt = runtime(context)
    data = dict(state.data)
    kind, value = parts[1], parts[2] if len(parts) > 2 else ""
    expected = {
        "cat": "category",
        "svc": "service",
        "when": "when",
        "ev": "evidence",
        "loc": "location",
        "priv": "privacy",
        "ok": "confirm",
        "no": "confirm",
    }
    if expected.get(kind) != state.step:
        await unknown_button(update, context)
        return
    if kind == "cat":
        if value not in {c.key for c in cp.categories(rt)}:
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
    elif kind == "priv":
        if value not in cp.PRIVACY_CHOICES:
            await unknown_button(update, context)
            return
        data["privacy"] = value
    elif kind == "no":
        await query.answer()
        with rt.db.session() as s:
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
        _ = translator(update, context).gettext
        await _say(update, _("Cancelled. Nothing was saved."), main_menu(_))
        return
    elif kind == "ok":
        await query.answer()
        await _file(update, context, state)
        return
    await query.answer()
    await _go(update, context, _next_step(state.step, data), data)


async def flow_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    """A message while filing: the description, a date, evidence, a location."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    message = update.effective_message
    data = dict(state.data)
    step = state.step
    try:
        if step == "description" and message.text:
            data["description"] = cp.clean_description(message.text)
        elif step == "when" and message.text:
            today = utcnow().astimezone(rt.tz).date()
            data["occurred_on"] = cp.parse_occurred_on(message.text, today).isoformat()
        elif step == "evidence" and (message.photo or message.document):
            evidence = data.get("evidence", [])
            if len(evidence) >= cp.MAX_EVIDENCE:
                await _say(
                    update,
                    _("That is the most I can take. Press Done."),
                    _markup([[(_("✔️ Done"), "cf:ev:done")]]),
                )
                return
            if message.photo:
                evidence.append(["photo", message.photo[-1].file_id])
            else:
                evidence.append(["document", message.document.file_id])
            data["evidence"] = evidence
            await _go(update, context, "evidence", data)
            return
        elif step == "location" and message.location:
            lat, lon = cp.check_location(message.location.latitude, message.location.longitude)
            data["location"] = [lat, lon]
        else:
            # Not what this step asks for: say what it needs, ask again, keep everything.
            text, markup = _question(rt, step, data, tr)
            await _say(update, _("Sorry, I need something else here.") + "\n\n" + text, markup)
            return
    except cp.InvalidInput as exc:
        text, markup = _question(rt, step, data, tr)
        await _say(update, error_text(exc, tr), markup)
        return
    await _go(update, context, _next_step(step, data), data)


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
            complaint = cp.file_complaint(
                s,
                rt,
                complainant_id=update.effective_user.id,
                complainant_name=_user_name(update),
                category=data["category"],
                service_id=data.get("service_id"),
                description=data["description"],
                occurred_on=date.fromisoformat(occurred) if occurred else None,
                evidence=[cp.Evidence(kind, file_id) for kind, file_id in data.get("evidence", [])],
                location=tuple(data["location"]) if data.get("location") else None,
                privacy=data["privacy"],
            )
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
            receipt = _receipt(rt, complaint, tr)
            markup = _json_markup(cp.complainant_buttons(complaint, tr))
    except cp.ComplaintError as exc:
        await _say(update, error_text(exc, tr), main_menu(_))
        return
    await _say(update, receipt, markup)


def _receipt(rt: Runtime, complaint: cp.Complaint, tr: Translator) -> str:
    _ = tr.gettext
    limits = cp.time_limits(rt, cp.category_of(rt, complaint.category))
    lines = [
        _("✅ <b>Your complaint has been filed.</b>"),
        _("Ticket number: <b>{ticket}</b>").format(ticket=complaint.ticket),
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
        "",
        _("See it or add information any time with /tiket {ticket}.").format(
            ticket=complaint.ticket
        ),
    ]
    if complaint.privacy == cp.ANONYMOUS:
        lines.append(_("Your name is not shown to any officer."))
    return "\n".join(lines)


# --- the citizen's tickets --------------------------------------------------------------------


async def ticket_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tiket [number]: a complainant's own ticket (officers: one they may handle)."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    user_id = update.effective_user.id
    if not context.args:
        with rt.db.session() as s:
            mine = cp.list_for_complainant(s, user_id)
        if not mine:
            await _say(update, _("You have no complaints. File one with /pengaduan."))
            return
        lines = [_("<b>Your complaints</b>")]
        rows = []
        for c in mine:
            lines.append(f"{c.ticket} · {_(cp.STATUS_LABELS[c.status])}")
            rows.append([(c.ticket, f"cc:view:{c.id}")])
        await _say(update, "\n".join(lines), _markup(rows[:10]))
        return
    typed = " ".join(context.args)
    with rt.db.session() as s:
        complaint = cp.get_by_ticket(s, typed)
        viewer = cp.viewer_for(s, user_id, rt.settings.admin_ids)
        if complaint is not None and complaint.complainant_id == user_id:
            text, markup = _complainant_view(s, rt, complaint, tr)
        elif complaint is not None and cp.can_handle(viewer, complaint):
            text = cp.render_staff_card(s, rt, complaint, tr, with_thread=True)
            markup = _json_markup(cp.staff_buttons(complaint, tr))
        else:
            # The same answer whether the ticket does not exist or is someone else's.
            text = _("No ticket {ticket} among your complaints.").format(ticket=escape(typed))
            markup = None
    await _say(update, text, markup)


def _complainant_view(
    s: Any, rt: Runtime, complaint: cp.Complaint, tr: Translator
) -> tuple[str, InlineKeyboardMarkup | None]:
    text = cp.render_complainant_card(s, rt, complaint, tr)
    if complaint.status == cp.RESOLVED:
        markup = cp.feedback_buttons(complaint, tr)
    elif complaint.status in cp.TERMINAL_STATUSES:
        markup = None
    else:
        markup = cp.complainant_buttons(complaint, tr)
    return text, _json_markup(markup)


def _ticket_button(data: str | None) -> tuple[str, int, str] | None:
    """``prefix:action:<complaint id>[:arg]`` as (action, id, arg); None when malformed."""
    parts = (data or "").split(":")
    if len(parts) < 3 or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2]), parts[3] if len(parts) > 3 else ""


async def complainant_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """cc:view|add|fb|rate:<id>[:value]: only the ticket's own complainant may press these."""
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    parsed = _ticket_button(query.data)
    if parsed is None:
        await unknown_button(update, context)
        return
    action, complaint_id, value = parsed
    user_id = query.from_user.id
    with rt.db.session() as s:
        complaint = s.get(cp.Complaint, complaint_id)
        if complaint is None or complaint.complainant_id != user_id:
            complaint = None
        elif action == "view":
            text, markup = _complainant_view(s, rt, complaint, tr)
    if complaint is None or action not in ("view", "add", "fb", "rate"):
        await unknown_button(update, context)
        return
    if action == "view":
        await query.answer()
        await _say(update, text, markup)
        return
    if action == "add":
        if complaint.status in cp.TERMINAL_STATUSES:
            await query.answer(
                error_text(cp.IllegalMove("illegal_move", status=complaint.status), tr),
                show_alert=True,
            )
            return
        await query.answer()
        with rt.db.session() as s:
            set_state(
                s,
                chat_id=user_id,
                user_id=user_id,
                flow=ADD_FLOW,
                step="text",
                data={"complaint_id": complaint_id},
            )
        await _say(
            update,
            _(
                "Write what you want to add to {ticket}. You may also send a photo or a document "
                "with a caption. /batal to cancel."
            ).format(ticket=complaint.ticket),
        )
        return
    try:
        with rt.db.session() as s:
            complaint = cp.get_complaint(s, complaint_id, for_update=True)
            if action == "fb" and value in ("y", "n"):
                cp.record_feedback(s, rt, complaint, complainant_id=user_id, solved=value == "y")
                reply = _("Thank you. How would you rate the handling of your complaint?")
                markup = _json_markup(cp.rating_buttons(complaint))
            elif action == "rate" and value.isdigit():
                cp.record_rating(s, complaint, complainant_id=user_id, rating=int(value))
                reply, markup = _("Thank you for your rating."), None
            else:
                raise cp.InvalidInput("bad_button")
    except cp.InvalidInput:
        await unknown_button(update, context)
        return
    except cp.ComplaintError as exc:
        await query.answer(error_text(exc, tr), show_alert=True)
        return
    await query.answer()
    await _say(update, reply, markup)


async def addition_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    """The complainant's addition to a ticket: text, or a photo/document with a caption."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    message = update.effective_message
    evidence: list[cp.Evidence] = []
    if message.photo:
        evidence.append(cp.Evidence("photo", message.photo[-1].file_id))
    elif message.document:
        evidence.append(cp.Evidence("document", message.document.file_id))
    body = message.text or message.caption or ("📎" if evidence else "")
    try:
        with rt.db.session() as s:
            complaint = cp.get_complaint(s, state.data["complaint_id"], for_update=True)
            cp.add_addition(
                s,
                rt,
                complaint,
                complainant_id=update.effective_user.id,
                body=body,
                evidence=evidence,
            )
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
            ticket = complaint.ticket
    except cp.ComplaintError as exc:
        await _say(update, error_text(exc, tr))
        return
    await _say(update, _("Added to {ticket}. The officers will see it.").format(ticket=ticket))


# --- officers ---------------------------------------------------------------------------------


def _unit_code(unit: str) -> str:
    """A unit in 8 characters of callback data (names can be longer than Telegram allows)."""
    return f"{zlib.crc32(unit.encode()):08x}"


async def _private_prompt(
    update: Update, context: ContextTypes.DEFAULT_TYPE, user_id: int, text: str
) -> bool:
    """Ask the officer in their private chat (a group button's follow-up is typed there)."""
    try:
        for part in split_message(text):
            await context.bot.send_message(user_id, part, parse_mode=ParseMode.HTML)
    except Forbidden:
        return False
    return True


async def staff_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """cx:<action>:<id>[:arg] from the group post, reminders and lists. The presser's role
    and unit come from the database; the group a button sits in grants nothing."""
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    parsed = _ticket_button(query.data)
    if parsed is None:
        await unknown_button(update, context)
        return
    action, complaint_id, arg = parsed
    presser = query.from_user.id
    with rt.db.session() as s:
        viewer = cp.viewer_for(s, presser, rt.settings.admin_ids)
        complaint = s.get(cp.Complaint, complaint_id)
    if not viewer.is_staff or complaint is None:
        await unknown_button(update, context)
        return
    if not cp.can_handle(viewer, complaint):
        await query.answer(error_text(cp.NotAllowed("not_your_ticket"), tr), show_alert=True)
        return
    try:
        if action == "take":
            with rt.db.session() as s:
                c = cp.get_complaint(s, complaint_id, for_update=True)
                cp.take(s, rt, c, actor=viewer)
            await query.answer(_("{ticket} is now yours.").format(ticket=c.ticket), show_alert=True)
            await _mark_taken_on_post(update, context, c)
        elif action == "asg":
            await query.answer()
            await _assign_menu(update, context, viewer, complaint, tr)
        elif action in ("unit", "off"):
            await _assign_to(update, context, viewer, complaint_id, action, arg, tr)
        elif action in ("rep", "res", "rej"):
            await _ask_officer_text(update, context, complaint, action, tr)
        elif action == "view":
            await query.answer()
            await _staff_view(update, context, viewer, complaint_id, tr)
        else:
            await unknown_button(update, context)
    except cp.ComplaintError as exc:
        await query.answer(error_text(exc, tr), show_alert=True)


async def _mark_taken_on_post(
    update: Update, context: ContextTypes.DEFAULT_TYPE, complaint: cp.Complaint
) -> None:
    """On the group post whose Take was pressed, say who has the ticket now, so the others in
    the group do not press it too (they would be told it is taken). In the office's language,
    like the post; the buttons stay for the one who took it."""
    message = update.callback_query.message
    if (
        message is None
        or message.chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP)
        or not message.text
    ):
        return
    office = Translator(runtime(context).settings.default_locale)
    line = office.gettext("🙋 Taken by officer {id}.").format(id=complaint.assignee_id)
    if line in message.text or len(message.text) + len(line) + 2 > TELEGRAM_TEXT_LIMIT:
        return
    try:
        await message.edit_text(
            f"{message.text_html}\n\n{escape(line)}",
            parse_mode=ParseMode.HTML,
            reply_markup=message.reply_markup,
            disable_web_page_preview=True,
        )
    except BadRequest as exc:  # the post was deleted or changed meanwhile: nothing to mark
        log.info("complaints: could not mark %s taken on its post: %s", complaint.ticket, exc)


async def _assign_menu(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    viewer: cp.Viewer,
    complaint: cp.Complaint,
    tr: Translator,
) -> None:
    rt = runtime(context)
    _ = tr.gettext
    with rt.db.session() as s:
        units = cp.units(s)
        officers = cp.assignable_staff(s)
    rows = [[(f"🏢 {u}", f"cx:unit:{complaint.id}:{_unit_code(u)}")] for u in units]
    rows += [
        [
            (
                f"👤 {o.telegram_id}" + (f" · {o.unit}" if o.unit else ""),
                f"cx:off:{complaint.id}:{o.telegram_id}",
            )
        ]
        for o in officers
        if viewer.sees_all or o.unit == viewer.unit
    ]
    if not rows:
        await _say(update, _("No units or officers are registered yet."))
        return
    await _say(update, _("Assign {ticket} to:").format(ticket=complaint.ticket), _markup(rows))


async def _assign_to(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    viewer: cp.Viewer,
    complaint_id: int,
    kind: str,
    arg: str,
    tr: Translator,
) -> None:
    rt = runtime(context)
    query = update.callback_query
    with rt.db.session() as s:
        c = cp.get_complaint(s, complaint_id, for_update=True)
        if kind == "unit":
            unit = next((u for u in cp.units(s) if _unit_code(u) == arg), None)
            if unit is None:
                raise cp.InvalidInput("unknown_unit")
            cp.assign(s, rt, c, actor=viewer, unit=unit)
        else:
            if not arg.lstrip("-").isdigit():
                raise cp.InvalidInput("unknown_officer")
            cp.assign(s, rt, c, actor=viewer, assignee_id=int(arg))
        label = cp.handler_label(c, tr)
    await query.answer(
        tr.gettext("{ticket} assigned to {who}.").format(ticket=c.ticket, who=label),
        show_alert=True,
    )


OFFICER_PROMPTS = {
    "rep": N_("Write your reply to {ticket}; it goes to the complainant. /batal to cancel."),
    "res": N_(
        "Write the answer that resolves {ticket}; the complainant will be asked whether "
        "it solved the problem. /batal to cancel."
    ),
    "rej": N_(
        "Write the reason for rejecting {ticket}; the complainant will read it. /batal to cancel."
    ),
}


async def _ask_officer_text(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    complaint: cp.Complaint,
    action: str,
    tr: Translator,
) -> None:
    rt = runtime(context)
    user_id = update.effective_user.id
    if complaint.status in cp.TERMINAL_STATUSES or (
        action != "rep" and complaint.status not in cp.OPEN_STATUSES
    ):
        raise cp.IllegalMove("illegal_move", status=complaint.status)
    with rt.db.session() as s:
        set_state(
            s,
            chat_id=user_id,
            user_id=user_id,
            flow=OFFICER_FLOW,
            step=action,
            data={"complaint_id": complaint.id},
        )
        card = cp.render_staff_card(s, rt, complaint, tr, with_thread=True)
    prompt = tr.gettext(OFFICER_PROMPTS[action]).format(ticket=complaint.ticket)
    sent = await _private_prompt(update, context, user_id, card + "\n\n<b>" + prompt + "</b>")
    if update.callback_query is None:
        return
    if sent:
        await update.callback_query.answer(tr.gettext("Write it in your private chat with me."))
    else:
        with rt.db.session() as s:
            clear_state(s, chat_id=user_id, user_id=user_id)
        await update.callback_query.answer(
            tr.gettext("Open a private chat with me first (press Start), then try again."),
            show_alert=True,
        )


async def officer_message(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    """The officer's reply, answer or rejection reason, typed after the button or /reply."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    text = update.effective_message.text
    if not text:
        await _say(update, _("Please write it as text. /batal to cancel."))
        return
    try:
        with rt.db.session() as s:
            viewer = cp.viewer_for(s, update.effective_user.id, rt.settings.admin_ids)
            c = cp.get_complaint(s, state.data["complaint_id"], for_update=True)
            if state.step == "rep":
                cp.reply(s, rt, c, actor=viewer, body=text)
                done = _("Reply sent to the complainant of {ticket}.")
            elif state.step == "res":
                cp.resolve(s, rt, c, actor=viewer, answer=text)
                done = _("{ticket} is resolved; the complainant has been asked to confirm.")
            else:
                cp.reject(s, rt, c, actor=viewer, reason=text)
                done = _("{ticket} is rejected; the complainant has been told why.")
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
            ticket = c.ticket
    except cp.InvalidInput as exc:
        await _say(update, error_text(exc, tr))
        return
    except cp.ComplaintError as exc:
        with rt.db.session() as s:
            clear_state(s, chat_id=state.chat_id, user_id=state.user_id)
        await _say(update, error_text(exc, tr))
        return
    await _say(update, done.format(ticket=ticket))


async def _staff_view(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    viewer: cp.Viewer,
    complaint_id: int,
    tr: Translator,
) -> None:
    """The full ticket for an officer, in their private chat, evidence re-sent by file id."""
    rt = runtime(context)
    with rt.db.session() as s:
        c = cp.get_complaint(s, complaint_id)
        text = cp.render_staff_card(s, rt, c, tr, with_thread=True)
        markup = _json_markup(cp.staff_buttons(c, tr))
        evidence = [(e.kind, e.file_id) for e in cp.evidence_of(s, c)]
    chat_id = viewer.telegram_id
    parts = split_message(text)
    try:
        for index, part in enumerate(parts):
            await context.bot.send_message(
                chat_id,
                part,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if index == len(parts) - 1 else None,
            )
        for kind, file_id in evidence:
            if kind == "photo":
                await context.bot.send_photo(chat_id, file_id, caption=c.ticket)
            else:
                await context.bot.send_document(chat_id, file_id, caption=c.ticket)
    except Forbidden:
        if update.callback_query is not None:
            await update.callback_query.answer(
                tr.gettext("Open a private chat with me first (press Start), then try again."),
                show_alert=True,
            )


@staff_only("officer")
async def reply_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reply <ticket>: the officer's next message goes to the complainant."""
    await _officer_ticket_command(update, context, "rep")


@staff_only("officer")
async def duplicate_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/duplikat <ticket> <original ticket>."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    if len(context.args) != 2:
        await _say(update, _("Usage: /duplikat <ticket> <original ticket>"))
        return
    try:
        with rt.db.session() as s:
            viewer = cp.viewer_for(s, update.effective_user.id, rt.settings.admin_ids)
            complaint = cp.get_by_ticket(s, context.args[0])
            original = cp.get_by_ticket(s, context.args[1])
            if complaint is None or original is None or not cp.can_handle(viewer, complaint):
                raise cp.NotAllowed("unknown_ticket")
            complaint = cp.get_complaint(s, complaint.id, for_update=True)
            cp.mark_duplicate(s, rt, complaint, actor=viewer, original=original)
            text = _("{ticket} is marked as a duplicate of {original}.").format(
                ticket=complaint.ticket, original=original.ticket
            )
    except cp.ComplaintError as exc:
        await _say(update, error_text(exc, tr))
        return
    await _say(update, text)


async def _officer_ticket_command(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: str
) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    if not context.args:
        await _say(update, _("Usage: /reply <ticket>"))
        return
    with rt.db.session() as s:
        viewer = cp.viewer_for(s, update.effective_user.id, rt.settings.admin_ids)
        complaint = cp.get_by_ticket(s, " ".join(context.args))
    if complaint is None or not cp.can_handle(viewer, complaint):
        await _say(
            update,
            _("No ticket {ticket} that you can handle.").format(
                ticket=escape(" ".join(context.args))
            ),
        )
        return
    try:
        await _ask_officer_text(update, context, complaint, action, tr)
    except cp.ComplaintError as exc:
        await _say(update, error_text(exc, tr))


@staff_only("admin")
async def unit_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unit <user id> <unit name>: the unit whose complaints an officer handles ("-": none)."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    args = context.args or []
    if len(args) < 2 or not args[0].lstrip("-").isdigit():
        await _say(update, _("Usage: /unit <user id> <unit name>, or /unit <user id> - for none"))
        return
    unit = " ".join(args[1:])
    try:
        with rt.db.session() as s:
            staff = cp.set_staff_unit(
                s,
                telegram_id=int(args[0]),
                unit=None if unit == "-" else unit,
                actor_id=update.effective_user.id,
            )
            text = (
                _("{user} now handles the complaints of {unit}.").format(
                    user=staff.telegram_id, unit=escape(staff.unit)
                )
                if staff.unit
                else _("{user} has no unit now.").format(user=staff.telegram_id)
            )
    except cp.ComplaintError as exc:
        await _say(update, error_text(exc, tr))
        return
    await _say(update, text)


LIST_WORDS = {
    "overdue": "overdue",
    "terlambat": "overdue",
    "mine": "mine",
    "saya": "mine",
    "all": "all",
    "semua": "all",
    "open": "open",
    "terbuka": "open",
}


def parse_list_filter(rt: Runtime, words: list[str]) -> cp.ListFilter | None:
    """'/complaints overdue mine illegal_levy': None when a word is not a filter."""
    status, category, overdue, mine = None, None, False, False
    category_keys = {c.key for c in cp.categories(rt)}
    for word in (w.lower() for w in words):
        meaning = LIST_WORDS.get(word)
        if meaning == "overdue":
            overdue = True
        elif meaning == "mine":
            mine = True
        elif meaning in ("all", "open"):
            status = meaning
        elif word in cp.STATUSES:
            status = word
        elif word in category_keys:
            category = word
        else:
            return None
    return cp.ListFilter(status=status, category=category, overdue=overdue, mine=mine)


@staff_only("officer")
async def complaints_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/complaints [open|all|<status>] [<category>] [overdue] [mine]."""
    rt = runtime(context)
    tr = translator(update, context)
    flt = parse_list_filter(rt, list(context.args or []))
    if flt is None:
        _ = tr.gettext
        await _say(
            update,
            _(
                "Filters: open, all, a status ({statuses}), a category ({categories}), "
                "overdue, mine."
            ).format(
                statuses=", ".join(cp.STATUSES),
                categories=", ".join(c.key for c in cp.categories(rt)),
            ),
        )
        return
    await _send_list(update, context, flt, tr)


async def list_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """cl:<filter>: the quick filters under a list."""
    query = update.callback_query
    rt = runtime(context)
    flt = parse_list_filter(rt, [(query.data or "").removeprefix("cl:")])
    if flt is None:
        await unknown_button(update, context)
        return
    await query.answer()
    await _send_list(update, context, flt, translator(update, context))


async def _send_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, flt: cp.ListFilter, tr: Translator
) -> None:
    rt = runtime(context)
    _ = tr.gettext
    now = utcnow()
    with rt.db.session() as s:
        viewer = cp.viewer_for(s, update.effective_user.id, rt.settings.admin_ids)
        rows = cp.list_for_staff(s, viewer, flt, now=now)
        text = cp.render_staff_list(rt, rows, tr, now)
    buttons = [[(f"🎫 {c.ticket}", f"cx:view:{c.id}")] for c in rows[:10]]
    buttons.append(
        [
            (_("Open"), "cl:open"),
            (_("Mine"), "cl:mine"),
            (_("Overdue"), "cl:overdue"),
            (_("All"), "cl:all"),
        ]
    )
    await _say(update, _("<b>Complaints</b>") + "\n" + text, _markup(buttons))


REPORT_PERIODS = {
    "month": N_("This month"),
    "prev": N_("Last month"),
    "30": N_("Last 30 days"),
    "year": N_("This year"),
}


def report_period(choice: str, today: date) -> tuple[date, date] | None:
    if choice == "month":
        return today.replace(day=1), today
    if choice == "prev":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if choice == "30":
        return today - timedelta(days=29), today
    if choice == "year":
        return today.replace(month=1, day=1), today
    return None


@staff_only("supervisor")
async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/laporan [YYYY-MM-DD YYYY-MM-DD]: figures for a period; without dates, a choice."""
    tr = translator(update, context)
    _ = tr.gettext
    args = context.args or []
    if len(args) == 2:
        try:
            start, end = date.fromisoformat(args[0]), date.fromisoformat(args[1])
        except ValueError:
            start = end = None
        if start is None or end < start:
            await _say(update, _("Usage: /laporan 2026-01-01 2026-03-31"))
            return
        await _send_report(update, context, start, end, tr)
        return
    rows = [[(_(label), f"rp:{key}")] for key, label in REPORT_PERIODS.items()]
    await _say(update, _("Which period?"), _markup(rows))


@staff_only("supervisor")
async def report_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    rt = runtime(context)
    today = utcnow().astimezone(rt.tz).date()
    period = report_period((query.data or "").removeprefix("rp:"), today)
    if period is None:
        await unknown_button(update, context)
        return
    await query.answer()
    await _send_report(update, context, *period, translator(update, context))


async def _send_report(
    update: Update, context: ContextTypes.DEFAULT_TYPE, start: date, end: date, tr: Translator
) -> None:
    rt = runtime(context)
    with rt.db.session() as s:
        report = cp.complaint_report(s, rt, start, end)
    await _say(update, cp.render_report(rt, report, tr))


# --- jobs: they only queue; the outbox sender delivers ----------------------------------------


async def escalation_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    with rt.db.session() as s:
        queued = cp.escalate_overdue(s, rt)
    if queued:
        log.info("complaints: %d overdue notice(s) queued", queued)


async def silent_close_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    with rt.db.session() as s:
        closed = cp.close_silent(s, rt)
    if closed:
        log.info("complaints: %d ticket(s) closed after silence", closed)


def register(app: Application) -> None:
    register_flow(FLOW, flow_message)
    register_flow(ADD_FLOW, addition_message)
    register_flow(OFFICER_FLOW, officer_message)
    app.add_handler(CommandHandler(["pengaduan", "complaint"], complaint_command), GROUP_FEATURES)
    app.add_handler(
        CallbackQueryHandler(complaint_command, pattern=r"^menu:complaint$"), GROUP_FEATURES
    )
    app.add_handler(
        CommandHandler(["tiket", "ticket"], ticket_command, filters.ChatType.PRIVATE),
        GROUP_FEATURES,
    )
    app.add_handler(CommandHandler(["reply", "balas"], reply_command), GROUP_FEATURES)
    app.add_handler(CommandHandler(["duplikat", "duplicate"], duplicate_command), GROUP_FEATURES)
    app.add_handler(CommandHandler("complaints", complaints_command), GROUP_FEATURES)
    app.add_handler(CommandHandler("unit", unit_command), GROUP_FEATURES)
    app.add_handler(CommandHandler(["laporan", "report"], report_command), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(flow_button, pattern=r"^cf:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(complainant_button, pattern=r"^cc:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(staff_button, pattern=r"^cx:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(list_button, pattern=r"^cl:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(report_button, pattern=r"^rp:"), GROUP_FEATURES)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            escalation_job, interval=ESCALATION_INTERVAL, first=60, name="complaints-escalate"
        )
        app.job_queue.run_repeating(
            silent_close_job,
            interval=SILENT_CLOSE_INTERVAL,
            first=120,
            name="complaints-close-silent",
        )
