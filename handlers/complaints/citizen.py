"""The citizen's side of complaints: the filing flow (/pengaduan) and their tickets (/tiket),
with additions, feedback and rating."""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.complaints.access import (
    ComplaintError,
    InvalidInput,
    LimitReached,
)
from bot.complaints.filing import (
    Evidence,
    check_daily_limit,
    check_location,
    clean_description,
    file_complaint,
    parse_occurred_on,
)
from bot.complaints.models import Complaint
from bot.complaints.render import (
    complainant_buttons,
    format_day,
    service_name,
)
from bot.complaints.vocabulary import (
    ANONYMOUS,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    MAX_EVIDENCE,
    PRIVACY_CHOICES,
    PRIVACY_LABELS,
    PRIVACY_NOTES,
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
    STEPS,
    error_text,
    inline_keyboard,
    json_markup,
    user_name,
)

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
        rows = [
            [(c.title(tr), CallbackData("cf", "cat", arg=c.key).pack())] for c in categories(rt)
        ]
        return _("📣 <b>New complaint</b>\nWhat is it about?"), inline_keyboard(rows)
    if step == "service":
        rows = [
            [
                (
                    service_name(rt, sid, tr.locale) or sid,
                    CallbackData("cf", "svc", arg=str(i)).pack(),
                )
            ]
            for i, sid in enumerate(data.get("services", []))
        ]
        rows.append([(_("No particular service"), CallbackData("cf", "svc", arg="none").pack())])
        return _("Which service is it about?"), inline_keyboard(rows)
    if step == "description":
        return (
            _(
                "Describe what happened: where, when and who was involved "
                "({minimum}–{maximum} characters)."
            ).format(minimum=DESCRIPTION_MIN, maximum=DESCRIPTION_MAX),
            None,
        )
    if step == "when":
        return (
            _("When did it happen? Write the date, like 17/08/2026, or press Skip."),
            inline_keyboard([[(skip, CallbackData("cf", "when", arg="skip").pack())]]),
        )
    if step == "evidence":
        count = len(data.get("evidence", []))
        text = _(
            "You may send photos or documents as evidence (up to {max}). Press Done when "
            "finished, or if you have none."
        ).format(max=MAX_EVIDENCE)
        if count:
            text = (
                tr.ngettext("Received {n} file.", "Received {n} files.", count).format(n=count)
                + " "
                + text
            )
        return text, inline_keyboard([[(_("✔️ Done"), CallbackData("cf", "ev", arg="done").pack())]])
    if step == "location":
        return (
            _("Where did it happen? You may share a location (📎 → Location), or press Skip."),
            inline_keyboard([[(skip, CallbackData("cf", "loc", arg="skip").pack())]]),
        )
    if step == "privacy":
        lines = [_("Who may see your name?"), ""]
        for choice in PRIVACY_CHOICES:
            lines.append(f"<b>{_(PRIVACY_LABELS[choice])}</b>: {_(PRIVACY_NOTES[choice])}")
        rows = [
            [(_(PRIVACY_LABELS[c]), CallbackData("cf", "priv", arg=c).pack())]
            for c in PRIVACY_CHOICES
        ]
        return "\n".join(lines), inline_keyboard(rows)
    if step == "confirm":
        return _summary(rt, data, tr), inline_keyboard(
            [
                [
                    (_("📨 Send complaint"), CallbackData("cf", "ok").pack()),
                    (_("✖️ Cancel"), CallbackData("cf", "no").pack()),
                ]
            ]
        )
    raise ValueError(f"unknown complaint step {step!r}")


def _summary(rt: Runtime, data: dict[str, Any], tr: Translator) -> str:
    _ = tr.gettext
    category = category_of(rt, data["category"])
    lines = [
        _("<b>Please check your complaint</b>"),
        _("Category: {category}").format(category=escape(category.title(tr))),
    ]
    service = service_name(rt, data.get("service_id"), tr.locale)
    if service:
        lines.append(_("Service: {service}").format(service=escape(service)))
    if data.get("occurred_on"):
        day = date.fromisoformat(data["occurred_on"])
        lines.append(_("Happened on: {date}").format(date=format_day(day, tr)))
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
    lines.append(_("Privacy: {privacy}").format(privacy=_(PRIVACY_LABELS[privacy])))
    lines.append(f"<i>{_(PRIVACY_NOTES[privacy])}</i>")
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
    if description is not None:
        try:
            data["description"] = clean_description(description)
        except InvalidInput:
            pass  # too short or too long: the description step asks for it
    step = "category"
    if category in {c.key for c in categories(rt)}:
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
        "loc": "location",
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
            data["description"] = clean_description(message.text)
        elif step == "when" and message.text:
            today = utcnow().astimezone(rt.tz).date()
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
        elif step == "location" and message.location:
            lat, lon = check_location(message.location.latitude, message.location.longitude)
            data["location"] = [lat, lon]
        else:
            # Not what this step asks for: say what it needs, ask again, keep everything.
            text, markup = _question(rt, step, data, tr)
            await reply_html(
                update, _("Sorry, I need something else here.") + "\n\n" + text, markup
            )
            return
    except InvalidInput as exc:
        text, markup = _question(rt, step, data, tr)
        await reply_html(update, error_text(exc, tr), markup)
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
    limits = time_limits(rt, category_of(rt, complaint.category))
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
    if complaint.privacy == ANONYMOUS:
        lines.append(_("Your name is not shown to any officer."))
    return "\n".join(lines)
