"""Application status in the chat: citizens look up and follow, officers register and update."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.applications.bulk import CsvProblem, bulk_update
from bot.applications.errors import ApplicationError
from bot.applications.lookup import (
    follow,
    followed_by,
    follower_count,
    is_follower,
    lookup,
    unfollow,
)
from bot.applications.models import Application as App
from bot.applications.models import ApplicationEvent
from bot.applications.service import (
    change_status,
    find_applications,
    get_application,
    history,
    overdue_applications,
    register_application,
)
from bot.applications.statuses import FINAL_STATUSES, NOTE_REQUIRED, STATUSES, ServiceSteps
from bot.applications.tracking import normalize_tracking_number
from bot.core.i18n import N_, Translator
from bot.core.models import ConversationState, utcnow
from bot.core.runtime import Runtime
from bot.people.conversations import clear_state, set_state
from bot.people.roles import has_role
from bot.people.staff import (
    add_staff,
    create_invite,
    list_staff,
    looks_like_invite,
    redeem_invite,
    redeem_join_request,
    remove_staff,
    request_join,
)
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    CITIZEN_COMMANDS,
    GROUP_FEATURES,
    MESSAGE_ROUTES,
    current_flow,
    edit_in_place,
    escape,
    main_menu,
    register_flow,
    register_message_route,
    reply_html,
    route_message,
    runtime,
    staff_only,
    translator,
    unknown_button,
    user_role,
)

log = logging.getLogger(__name__)

CITIZEN_COMMANDS.append(("cekstatus", "status", N_("Check an application's status")))

MAX_CSV_BYTES = 1_000_000
ROLE_LABELS = {"officer": N_("officer"), "supervisor": N_("supervisor"), "admin": N_("admin")}
REPORT_REFUSED_SHOWN = 50


# --- shared rendering ----------------------------------------------------------------------------


def _steps(rt: Runtime, application: App) -> ServiceSteps:
    return ServiceSteps.of(rt.knowledge.services.get(application.service_id))


def _service_name(rt: Runtime, service_id: str, tr: Translator) -> str:
    service = rt.knowledge.services.get(service_id)
    return escape(service.name(tr.locale) if service is not None else service_id)


def _due_text(rt: Runtime, application: App, tr: Translator, now: datetime) -> str:
    _ = tr.gettext
    service = rt.knowledge.services.get(application.service_id)
    by_hours = service is not None and service.duration.unit == "hours"
    when = (tr.datetime if by_hours else tr.date)(application.due_at, rt.settings.tz)
    if application.status in FINAL_STATUSES:
        state = _("finished late") if application.is_overdue(now) else _("finished on time")
    else:
        state = _("⚠️ overdue") if application.is_overdue(now) else _("on time")
    return _("Due date: {date} ({state})").format(date=when, state=state)


def render_card(
    rt: Runtime, application: App, events: list[ApplicationEvent], tr: Translator
) -> str:
    """What a citizen sees: service, status, due date, the whole history (notes escaped)."""
    _ = tr.gettext
    steps = _steps(rt, application)
    now = utcnow()
    lines = [
        _("<b>Application {number}</b>").format(
            number=f"<code>{application.display_number}</code>"
        ),
        _("Service: {service}").format(service=_service_name(rt, application.service_id, tr)),
        _("Status: <b>{status}</b>").format(status=escape(steps.label(application.status, tr))),
        _due_text(rt, application, tr, now),
        "",
        _("<b>History</b>"),
    ]
    for event in events:
        line = f"• {tr.datetime(event.at, rt.settings.tz)}: {escape(steps.label(event.status, tr))}"
        if event.note:
            line += f" — <i>{escape(event.note)}</i>"
        lines.append(line)
    return "\n".join(lines)


def _follow_mac(token: str, user_id: int, application_id: int) -> str:
    """Proof in a Follow button that this user gave the right code for this application, so a
    forged button cannot follow someone else's application."""
    key = hashlib.sha256(b"follow:" + token.encode()).digest()
    message = f"{user_id}:{application_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:12]


def _card_markup(
    context: ContextTypes.DEFAULT_TYPE, tr: Translator, application: App, user_id: int, *,
    following: bool,
) -> InlineKeyboardMarkup:
    _ = tr.gettext
    if following:
        button = InlineKeyboardButton(
            _("🔕 Stop following"), callback_data=CallbackData("st", "uf", application.id).pack()
        )
    else:
        mac = _follow_mac(context.bot.token, user_id, application.id)
        button = InlineKeyboardButton(
            _("🔔 Follow this application"),
            callback_data=CallbackData("st", "fo", application.id, mac).pack(),
        )
    return InlineKeyboardMarkup([[button]])


# --- citizens: /status ------------------------------------------------------------------------


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    if len(args) >= 2:
        await _lookup_and_show(update, context, args[0], args[1])
    elif len(args) == 1:
        _ = translator(update, context).gettext
        with runtime(context).db.session() as session:
            set_state(
                session,
                chat_id=update.effective_chat.id,
                user_id=update.effective_user.id,
                flow="status_lookup",
                step="code",
                data={"number": args[0][:40]},
            )
        await reply_html(update, _("Now send the verification code printed on your receipt."))
    else:
        await _list_followed(update, context)


async def menu_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer()
    await _list_followed(update, context)


async def _list_followed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    user_id = update.effective_user.id
    with rt.db.session() as session:
        followed = followed_by(session, user_id)
        set_state(
            session,
            chat_id=update.effective_chat.id,
            user_id=user_id,
            flow="status_lookup",
            step="number",
        )
    lines: list[str] = []
    buttons = []
    if followed:
        lines.append(_("<b>Applications you follow</b>"))
        now = utcnow()
        for application in followed:
            label = escape(_steps(rt, application).label(application.status, tr))
            lines.append(
                f"• <code>{application.display_number}</code> "
                f"{_service_name(rt, application.service_id, tr)}: <b>{label}</b>"
            )
            lines.append("  " + _due_text(rt, application, tr, now))
            buttons.append(
                [
                    InlineKeyboardButton(
                        application.display_number,
                        callback_data=CallbackData("st", "sh", application.id).pack(),
                    )
                ]
            )
        lines.append("")
    lines.append(
        _(
            "Send the tracking number and the verification code from your receipt, "
            "for example: <code>K7QM-3XPA 123456</code>"
        )
    )
    await reply_html(update, "\n".join(lines), InlineKeyboardMarkup(buttons) if buttons else None)


async def status_flow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    _ = translator(update, context).gettext
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    if not text:
        await reply_html(update, _("Please send the tracking number and code as text."))
        return
    parts = text.split()
    if len(parts) > 2 or any(len(part) > 12 for part in parts):
        # A sentence, not a number and a code: the citizen moved on (asked a question, say).
        with runtime(context).db.session() as session:
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
        await route_message(update, context)
        return
    if state.step == "code":
        await _lookup_and_show(update, context, state.data.get("number", ""), parts[0])
    elif len(parts) >= 2:
        await _lookup_and_show(update, context, parts[0], parts[1])
    elif normalize_tracking_number(parts[0]) is not None:
        with runtime(context).db.session() as session:
            set_state(
                session,
                chat_id=state.chat_id,
                user_id=state.user_id,
                flow="status_lookup",
                step="code",
                data={"number": parts[0]},
            )
        await reply_html(update, _("Now send the verification code printed on your receipt."))
    else:
        await _lookup_and_show(update, context, parts[0], "")


async def _lookup_and_show(
    update: Update, context: ContextTypes.DEFAULT_TYPE, number: str, code: str
) -> None:
    tr = translator(update, context)
    rt = runtime(context)
    user_id = update.effective_user.id
    with rt.db.session() as session:
        clear_state(session, chat_id=update.effective_chat.id, user_id=user_id)
    try:
        with rt.db.session() as session:
            application = lookup(session, user_id=user_id, tracking_text=number, code=code)
            events = history(session, application)
            following = is_follower(session, application_id=application.id, user_id=user_id)
    except ApplicationError as err:
        await reply_html(update, err.message(tr))
        return
    await reply_html(
        update,
        render_card(rt, application, events, tr),
        _card_markup(context, tr, application, user_id, following=following),
    )


async def status_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """st:fo:<id>:<mac> follow, st:uf:<id> stop following, st:sh:<id> show a followed one."""
    query = update.callback_query
    data = CallbackData.parse(query.data, "st", with_id={"fo", "uf", "sh"})
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    user_id = query.from_user.id
    if data is None or data.id is None:
        await unknown_button(update, context)
        return
    application_id, action = data.id, data.action
    with rt.db.session() as session:
        application = session.get(App, application_id)
        following = application is not None and is_follower(
            session, application_id=application_id, user_id=user_id
        )
        if application is None:
            done = None
        elif (
            action == "fo"
            and data.arg is not None
            and hmac.compare_digest(
                data.arg, _follow_mac(context.bot.token, user_id, application_id)
            )
        ):
            follow(session, application=application, user_id=user_id)
            done = _("You will get a message at every change of {number}.").format(
                number=application.display_number
            )
            following = True
        elif action == "uf" and following:
            unfollow(session, application_id=application_id, user_id=user_id)
            done = _("You no longer follow {number}.").format(number=application.display_number)
            following = False
        elif action == "sh" and following:
            done = ""
        else:
            done = None
        events = history(session, application) if done is not None else []
    if done is None:
        await unknown_button(update, context)
        return
    await query.answer(done or None)
    markup = _card_markup(context, tr, application, user_id, following=following)
    if action == "sh":
        await reply_html(update, render_card(rt, application, events, tr), markup)
    else:
        await edit_in_place(query.edit_message_reply_markup(markup))


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
                _("Service: {service}").format(service=_service_name(rt, service_id, tr)),
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
    await reply_html(update, render_receipt(rt, application, tr))


def render_receipt(rt: Runtime, application: App, tr: Translator) -> str:
    """For the officer to print or copy onto the applicant's receipt."""
    _ = tr.gettext
    return "\n".join(
        [
            _("✅ Application registered."),
            "",
            _("Tracking number: <b><code>{number}</code></b>").format(
                number=application.display_number
            ),
            _("Verification code: <b><code>{code}</code></b>").format(
                code=application.verification_code
            ),
            _("Service: {service}").format(service=_service_name(rt, application.service_id, tr)),
            _("Applicant: {name}").format(name=escape(application.applicant_name)),
            _due_text(rt, application, tr, utcnow()),
            "",
            _(
                "Give both to the applicant: they check the status with /cekstatus "
                "and the tracking number and code."
            ),
        ]
    )


# --- officers: /update, /find, /overdue ------------------------------------------------------


@staff_only("officer")
async def update_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    if not context.args:
        await reply_html(update, _("Usage: /update <tracking number>"))
        return
    try:
        with rt.db.session() as session:
            application = get_application(session, context.args[0])
            events = history(session, application)
    except ApplicationError as err:
        await reply_html(update, err.message(tr))
        return
    steps = _steps(rt, application)
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
        if application is None:
            await unknown_button(update, context)
            return
        set_state(
            session,
            chat_id=update.effective_chat.id,
            user_id=query.from_user.id,
            flow="update",
            step="note",
            data={"number": application.tracking_number, "status": status},
        )
    await query.answer()
    label = escape(_steps(rt, application).label(status, tr))
    if status in NOTE_REQUIRED:
        await reply_html(
            update,
            _("{status}: write the note for the applicant (what is missing, or why).").format(
                status=f"<b>{label}</b>"
            ),
        )
    else:
        await reply_html(
            update,
            _("{status}: write a note for the applicant, or press the button.").format(
                status=f"<b>{label}</b>"
            ),
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
    label = escape(_steps(rt, application).label(application.status, tr))
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
    steps = _steps(rt, application)
    return (
        f"• <code>{application.display_number}</code> {escape(application.applicant_name)} "
        f"({_service_name(rt, application.service_id, tr)}): "
        f"<b>{escape(steps.label(application.status, tr))}</b>\n  "
        + _due_text(rt, application, tr, now)
    )


@staff_only("officer")
async def find_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    query = " ".join(context.args or []).strip()
    if not query:
        await reply_html(update, _("Usage: /find <tracking number or applicant name>"))
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
        overdue = overdue_applications(session, now=now)
    if not overdue:
        await reply_html(update, _("No application is overdue. 👍"))
        return
    lines = [_("<b>Overdue applications</b> (oldest first)")]
    lines += [_officer_line(rt, application, tr, now) for application in overdue]
    await reply_html(update, "\n".join(lines))


# --- officers: bulk update by CSV --------------------------------------------------------------


def _is_staff_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
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


# --- admins: /officer, and joining with a code -----------------------------------------------


@staff_only("admin")
async def officer_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    args = context.args or []
    admin = update.effective_user.id
    action = args[0].lower() if args else ""
    usage = _(
        "Usage:\n/officer add <user id or code> [officer|supervisor]\n"
        "/officer invite [officer|supervisor]\n/officer remove <user id>\n/officer list"
    )
    try:
        if action == "add" and len(args) >= 2:
            role = args[2].lower() if len(args) >= 3 else "officer"
            target = args[1]
            with rt.db.session() as session:
                if target.lstrip("-").isdigit():
                    telegram_id = int(target)
                else:
                    telegram_id = redeem_join_request(session, code=target)
                    if telegram_id is None:
                        await reply_html(update, _("This code is unknown, used or expired."))
                        return
                add_staff(session, telegram_id=telegram_id, role=role, actor_id=admin)
            await reply_html(
                update,
                _("{user} is now {role}.").format(user=telegram_id, role=_(ROLE_LABELS[role])),
            )
        elif action == "invite":
            role = args[1].lower() if len(args) >= 2 else "officer"
            with rt.db.session() as session:
                invite = create_invite(session, role=role, actor_id=admin)
            await reply_html(
                update,
                _(
                    "One-time code for a new {role}: <code>{code}</code>\n"
                    "They send <code>/start {code}</code> to this bot. Valid for 7 days."
                ).format(role=_(ROLE_LABELS[role]), code=invite.code),
            )
        elif action == "remove" and len(args) >= 2 and args[1].lstrip("-").isdigit():
            with rt.db.session() as session:
                removed = remove_staff(session, telegram_id=int(args[1]), actor_id=admin)
            await reply_html(
                update,
                _("Removed {user}.").format(user=args[1])
                if removed
                else _("{user} has no staff role.").format(user=escape(args[1])),
            )
        elif action == "list":
            with rt.db.session() as session:
                staff = list_staff(session)
            lines = [_("<b>Staff</b>")]
            lines += [f"• {s.telegram_id}: {_(ROLE_LABELS[s.role])}" for s in staff]
            admin_label = _(ROLE_LABELS["admin"])
            lines += [f"• {i}: {admin_label} (ADMIN_IDS)" for i in rt.settings.admin_ids]
            await reply_html(update, "\n".join(lines))
        else:
            await reply_html(update, usage)
    except ApplicationError as err:
        await reply_html(update, err.message(tr))


async def join_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/join <code> (or /start <code>) takes an invite; /join alone gives a code to an admin."""
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    user_id = update.effective_user.id
    args = context.args or []
    if args:
        with rt.db.session() as session:
            staff = redeem_invite(session, code=args[0], telegram_id=user_id)
        if staff is None:
            await reply_html(update, _("This code is unknown, used or expired."))
        else:
            await reply_html(
                update,
                _(
                    "Welcome! You are now {role}. Commands: /register, /update, /find, /overdue."
                ).format(role=_(ROLE_LABELS[staff.role])),
            )
        return
    with rt.db.session() as session:
        code = request_join(session, telegram_id=user_id).code
    await reply_html(
        update,
        _(
            "Give this code to an admin of the office: <code>{code}</code>\n"
            "They add you with /officer add {code}"
        ).format(code=code),
    )


async def start_with_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start INV...: a deep link or typed invite code; common's /start must not answer too."""
    if context.args and looks_like_invite(context.args[0]):
        await join_command(update, context)
        raise ApplicationHandlerStop


def register(app: Application) -> None:
    register_flow("status_lookup", status_flow)
    register_flow("register", register_flow_step)
    register_flow("update", update_flow_step)
    # The route table is per process and tests build many Applications: add it once.
    if (_is_staff_document, csv_document) not in MESSAGE_ROUTES:
        register_message_route(_is_staff_document, csv_document)
    # /start <invite code> must be seen before common's /start: an earlier group, which stops
    # the update only when it carries a code.
    app.add_handler(
        CommandHandler(
            "start",
            start_with_invite,
            filters=filters.ChatType.PRIVATE & filters.Regex(r"^/start\s+INV"),
        ),
        GROUP_FEATURES - 1,
    )
    # Private chats only: a lookup, a receipt or a verification code must not land in a group.
    private = filters.ChatType.PRIVATE
    for names, callback in (
        (["cekstatus", "status"], status_command),
        (["register"], register_command),
        (["update"], update_command),
        (["find"], find_command),
        (["overdue"], overdue_command),
        (["officer"], officer_command),
        (["join"], join_command),
    ):
        app.add_handler(CommandHandler(names, callback, filters=private), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(menu_status, pattern=r"^menu:status$"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(status_button, pattern=r"^st:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(register_button, pattern=r"^rg:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(update_button, pattern=r"^up:"), GROUP_FEATURES)
