"""Officers at the counter: /register a new application, /update its status, /find, /overdue,
and bulk updates from a CSV file."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import (
    ContextTypes,
)

from bot.applications.bulk import CsvProblem, bulk_update
from bot.applications.errors import ApplicationError
from bot.applications.lookup import (
    follower_count,
)
from bot.applications.models import Application as App
from bot.applications.notices import follower_languages
from bot.applications.replies import LANGUAGE_NAMES
from bot.applications.service import (
    change_status,
    find_applications,
    get_application,
    history,
    overdue_applications,
    register_application,
)
from bot.applications.statuses import NOTE_REQUIRED, STATUSES
from bot.core.i18n import Translator
from bot.core.models import ConversationState, utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.people.conversations import clear_state, set_state
from bot.people.roles import has_role
from bot.people.scope import report_scope
from bot.surveys.questionnaire import service_unit
from bot.telegram_rules.callback import CallbackData
from handlers.applications.receipt import send_receipt
from handlers.applications.shared import (
    MAX_CSV_BYTES,
    REPORT_REFUSED_SHOWN,
    due_text,
    render_card,
    service_name,
    service_steps,
)
from handlers.common import (
    current_flow,
    edit_in_place,
    main_menu,
    reply_html,
    runtime,
    staff_only,
    translator,
    unknown_button,
    user_role,
)

# --- officers: /register ----------------------------------------------------------------------


@staff_only("officer")
async def register_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    with rt.db.session() as session:
        set_state(
            session,
            chat_id=update.effective_chat.id,
            user_id=update.effective_user.id,
            flow="register",
            step="service",
        )
    buttons = [
        [InlineKeyboardButton(service.name(tr.locale)[:60], callback_data=data.pack())]
        for sid, service in rt.knowledge.services.items()
        if (data := CallbackData.fitting("rg", "s", arg=sid)) is not None
    ]
    await reply_html(
        update,
        _("<b>New application</b> (1/3)\nWhich service? /cancel to stop."),
        InlineKeyboardMarkup(buttons),
    )


def _open_state(
    update: Update, context: ContextTypes.DEFAULT_TYPE, flow: str, step: str
) -> ConversationState | None:
    """The user's open flow if it is at ``step``: a button from an older form is refused."""
    state = current_flow(update, context)
    if state is None or state.flow != flow or state.step != step:
        return None
    return state


@staff_only("officer")
async def register_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """rg:s:<service id> picks the service; rg:nophone registers without a phone number."""
    query = update.callback_query
    data = CallbackData.parse(query.data, "rg")
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    if data is not None and data.action == "s":
        state = _open_state(update, context, "register", "service")
        service_id = data.arg
        if state is None or service_id not in rt.knowledge.services:
            await unknown_button(update, context)
            return
        with rt.db.session() as session:
            set_state(
                session,
                chat_id=state.chat_id,
                user_id=state.user_id,
                flow="register",
                step="name",
                data={"service": service_id},
            )
        await query.answer()
        await edit_in_place(
            query.edit_message_text(
                _("Service: {service}").format(service=service_name(rt, service_id, tr)),
                parse_mode="HTML",
            )
        )
        await reply_html(update, _("(2/3) The applicant's full name?"))
        return
    state = _open_state(update, context, "register", "phone")
    if data is None or data.action != "nophone" or data.arg is not None or state is None:
        await unknown_button(update, context)
        return
    await query.answer()
    await _finish_register(update, context, state, phone=None)


async def register_flow_step(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    if not has_role(user_role(update, context), "officer"):
        # Their role was removed mid-form: the form goes with it.
        with rt.db.session() as session:
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
        await reply_html(update, _("Cancelled. Nothing was saved."), main_menu(_))
        return
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    if state.step == "service":
        await reply_html(update, _("Please choose the service with the buttons above."))
    elif state.step == "name":
        name = " ".join(text.split())
        if not 2 <= len(name) <= 200:
            await reply_html(update, _("The applicant's name must be 2 to 200 characters."))
            return
        with rt.db.session() as session:
            set_state(
                session,
                chat_id=state.chat_id,
                user_id=state.user_id,
                flow="register",
                step="phone",
                data={**state.data, "name": name},
            )
        await reply_html(
            update,
            _("(3/3) The applicant's phone number? It is optional."),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            _("No phone number"), callback_data=CallbackData("rg", "nophone").pack()
                        )
                    ]
                ]
            ),
        )
    elif state.step == "phone":
        await _finish_register(update, context, state, phone=text)


async def _finish_register(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    state: ConversationState,
    *,
    phone: str | None,
) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    try:
        with rt.db.session() as session:
            application = register_application(
                session,
                rt,
                service_id=state.data["service"],
                applicant_name=state.data["name"],
                phone=phone,
                actor_id=state.user_id,
            )
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
    except ApplicationError as err:
        await reply_html(update, err.message(tr))
        return
    await send_receipt(update, context, application)


# --- officers: /update, /find, /overdue ------------------------------------------------------


@staff_only("officer")
async def update_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    if not context.args:
        await reply_html(update, escape(_("Usage: /update <tracking number>")))
        return
    try:
        with rt.db.session() as session:
            application = get_application(session, context.args[0])
            events = history(session, application)
    except ApplicationError as err:
        await reply_html(update, err.message(tr))
        return
    steps = service_steps(rt, application)
    options = steps.next_steps(application.status)
    if not options:
        await reply_html(
            update,
            render_card(rt, application, events, tr)
            + "\n\n"
            + _("This application is finished; its status cannot change any more."),
        )
        return
    buttons = [
        [
            InlineKeyboardButton(
                "➡️ " + steps.label(status, tr),
                callback_data=CallbackData("up", application.tracking_number, arg=status).pack(),
            )
        ]
        for status in options
    ]
    await reply_html(
        update,
        render_card(rt, application, events, tr) + "\n\n" + _("Move it to:"),
        InlineKeyboardMarkup(buttons),
    )


@staff_only("officer")
async def update_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """up:<tracking>:<status> picks the new status; up:nonote applies it without a note."""
    query = update.callback_query
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    data = CallbackData.parse(query.data, "up")
    if data is not None and data.action == "nonote" and data.arg is None:
        state = _open_state(update, context, "update", "note")
        if state is None or state.data.get("status") in NOTE_REQUIRED:
            await unknown_button(update, context)
            return
        await query.answer()
        await _apply_update(update, context, state, note=None)
        return
    if data is None or data.arg not in STATUSES:
        await unknown_button(update, context)
        return
    number, status = data.action, data.arg
    with rt.db.session() as session:
        try:
            application = get_application(session, number)
        except ApplicationError:
            application = None
        if application is not None:
            set_state(
                session,
                chat_id=update.effective_chat.id,
                user_id=query.from_user.id,
                flow="update",
                step="note",
                data={"number": application.tracking_number, "status": status},
            )
            audience = _audience(tr, follower_languages(session, rt, application.id))
    if application is None:
        await unknown_button(update, context)
        return
    await query.answer()
    label = escape(service_steps(rt, application).label(status, tr))
    if status in NOTE_REQUIRED:
        await reply_html(
            update,
            _("{status}: write the note for the applicant (what is missing, or why).").format(
                status=f"<b>{label}</b>"
            )
            + "\n"
            + audience,
        )
    else:
        await reply_html(
            update,
            _("{status}: write a note for the applicant, or press the button.").format(
                status=f"<b>{label}</b>"
            )
            + "\n"
            + audience,
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            _("Without a note"), callback_data=CallbackData("up", "nonote").pack()
                        )
                    ]
                ]
            ),
        )


def _audience(tr: Translator, languages: Counter[str]) -> str:
    """Who will read the note, and in which language: the officer writes it for them."""
    _ = tr.gettext
    total = sum(languages.values())
    if not total:
        return _("👤 Nobody follows this application in the chat: the note stays in its history.")
    if len(languages) == 1:
        names = _(LANGUAGE_NAMES.get(next(iter(languages)), LANGUAGE_NAMES["id"]))
    else:
        names = ", ".join(
            f"{_(LANGUAGE_NAMES.get(code, LANGUAGE_NAMES['id']))} ({count})"
            for code, count in languages.most_common()
        )
    return tr.ngettext(
        "👥 {n} follower will read it, in {languages}.",
        "👥 {n} followers will read it, in {languages}.",
        total,
    ).format(n=total, languages=names)


async def update_flow_step(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    _ = translator(update, context).gettext
    if not has_role(user_role(update, context), "officer"):
        with runtime(context).db.session() as session:
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
        await reply_html(update, _("Cancelled. Nothing was saved."), main_menu(_))
        return
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    if not text:
        await reply_html(update, _("Please write the note as text."))
        return
    await _apply_update(update, context, state, note=text)


async def _apply_update(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    state: ConversationState,
    *,
    note: str | None,
) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    try:
        with rt.db.session() as session:
            application = change_status(
                session,
                rt,
                tracking_number=state.data["number"],
                status=state.data["status"],
                note=note,
                actor_id=state.user_id,
            )
            followers = follower_count(session, application.id)
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
    except ApplicationError as err:
        with rt.db.session() as session:
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
        await reply_html(update, err.message(tr))
        return
    label = escape(service_steps(rt, application).label(application.status, tr))
    await reply_html(
        update,
        _("✅ {number} is now <b>{status}</b>.").format(
            number=f"<code>{application.display_number}</code>", status=label
        )
        + "\n"
        + tr.ngettext(
            "{n} follower will be told.", "{n} followers will be told.", followers
        ).format(n=followers),
    )


def _officer_line(rt: Runtime, application: App, tr: Translator, now: datetime) -> str:
    steps = service_steps(rt, application)
    return (
        f"• <code>{application.display_number}</code> {escape(application.applicant_name)} "
        f"({service_name(rt, application.service_id, tr)}): "
        f"<b>{escape(steps.label(application.status, tr))}</b>\n  "
        + due_text(rt, application, tr, now)
    )


@staff_only("officer")
async def find_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    query = " ".join(context.args or []).strip()
    if not query:
        await reply_html(update, escape(_("Usage: /find <tracking number or applicant name>")))
        return
    with rt.db.session() as session:
        found = find_applications(session, query, actor_id=update.effective_user.id)
    if not found:
        await reply_html(update, _("Nothing found for {query}.").format(query=escape(query)))
        return
    now = utcnow()
    lines = [_("<b>Found</b>")]
    for application in found:
        lines.append(_officer_line(rt, application, tr, now))
        lines.append(
            "  " + _("Code: {code}").format(code=f"<code>{application.verification_code}</code>")
        )
    await reply_html(update, "\n".join(lines))


@staff_only("officer")
async def overdue_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    now = utcnow()
    with rt.db.session() as session:
        # Staff of a unit see their unit's services only (bot/people/scope.py).
        scope = report_scope(session, update.effective_user.id, rt.settings.admin_ids)
        services = scope.services(rt.knowledge.services, lambda s: service_unit(rt, s))
        overdue = overdue_applications(session, now=now, services=services)
    if not overdue:
        await reply_html(update, _("No application is overdue. 👍"))
        return
    lines = [_("<b>Overdue applications</b> (oldest first)")]
    lines += [_officer_line(rt, application, tr, now) for application in overdue]
    await reply_html(update, "\n".join(lines))


# --- officers: bulk update by CSV --------------------------------------------------------------


def is_staff_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    message = update.effective_message
    return (
        message is not None
        and message.document is not None
        and update.effective_chat.type == ChatType.PRIVATE
        and has_role(user_role(update, context), "officer")
    )


async def csv_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    document = update.effective_message.document
    if document.file_size is not None and document.file_size > MAX_CSV_BYTES:
        await reply_html(update, _("The file is too large (at most 1 MB)."))
        return
    data = bytes(await (await context.bot.get_file(document.file_id)).download_as_bytearray())
    try:
        # In a thread: thousands of rows take a while, and the bot keeps answering meanwhile.
        report = await asyncio.to_thread(
            bulk_update, rt, data, actor_id=update.effective_user.id
        )
    except CsvProblem as problem:
        await reply_html(update, _(problem.args[0]))
        return
    applied = report.applied
    refused = [
        _("Row {row}: {reason}").format(
            row=line, reason=err.message(tr) if err is not None else _("could not be saved")
        )
        for line, err in report.refused
    ]
    lines = [
        _("<b>Bulk update</b>"),
        tr.ngettext("{n} row applied.", "{n} rows applied.", applied).format(n=applied),
        tr.ngettext("{n} row refused.", "{n} rows refused.", len(refused)).format(n=len(refused)),
    ]
    lines += refused[:REPORT_REFUSED_SHOWN]
    if len(refused) > REPORT_REFUSED_SHOWN:
        lines.append(_("… and {n} more.").format(n=len(refused) - REPORT_REFUSED_SHOWN))
    await reply_html(update, "\n".join(lines))
