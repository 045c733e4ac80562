"""Citizens and their applications: /cekstatus (look up with the tracking number and the
verification code), following, and the followed list."""

from __future__ import annotations

import hmac

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ContextTypes,
)

from bot.applications.errors import ApplicationError
from bot.applications.lookup import (
    follow,
    followed_by,
    is_follower,
    lookup,
    unfollow,
)
from bot.applications.models import Application as App
from bot.applications.service import (
    history,
)
from bot.applications.tracking import normalize_tracking_number
from bot.core.models import ConversationState, utcnow
from bot.core.text import escape
from bot.people.conversations import clear_state, set_state
from bot.telegram_rules.callback import CallbackData
from handlers.applications.shared import (
    card_markup,
    due_text,
    follow_mac,
    render_card,
    service_name,
    service_steps,
)
from handlers.common import (
    edit_in_place,
    reply_html,
    route_message,
    runtime,
    translator,
    unknown_button,
)

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
            label = escape(service_steps(rt, application).label(application.status, tr))
            lines.append(
                f"• <code>{application.display_number}</code> "
                f"{service_name(rt, application.service_id, tr)}: <b>{label}</b>"
            )
            lines.append("  " + due_text(rt, application, tr, now))
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
        card_markup(context, tr, application, user_id, following=following),
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
                data.arg, follow_mac(context.bot.token, user_id, application_id)
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
    markup = card_markup(context, tr, application, user_id, following=following)
    if action == "sh":
        await reply_html(update, render_card(rt, application, events, tr), markup)
    else:
        await edit_in_place(query.edit_message_reply_markup(markup))
