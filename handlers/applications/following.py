"""Following without typing: the receipt's link (/start st_<number>_<code>) opens the status
and follows it in one press; a citizen who shares their own Telegram contact is offered the
applications registered with that number."""

from __future__ import annotations

import hmac

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.applications.links import parse_status_payload
from bot.applications.lookup import follow
from bot.applications.models import Application as App
from bot.applications.phones import normalize_phone, registered_with_phone
from bot.core.i18n import Translator
from bot.core.models import ConversationState, utcnow
from bot.core.text import escape
from bot.people.conversations import clear_state, get_state, set_state
from bot.telegram_rules.callback import CallbackData
from handlers.applications.citizens import list_followed, lookup_and_show
from handlers.applications.shared import due_text, follow_mac, service_name, service_steps
from handlers.common import (
    edit_in_place,
    reply_html,
    route_message,
    runtime,
    translator,
    unknown_button,
)

PHONE_FLOW = "status_phone"

# --- the receipt's link -------------------------------------------------------------------------


async def start_with_status_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start st_<number>_<code>: the status, followed at once; menu's /start must not answer."""
    parsed = parse_status_payload(context.args[0]) if context.args else None
    if parsed is None:
        _ = translator(update, context).gettext
        await reply_html(update, _("This link is not complete. Please type the tracking number "
                                   "and the code from your receipt."))
        await list_followed(update, context)
    else:
        await lookup_and_show(update, context, *parsed, follow_now=True)
    raise ApplicationHandlerStop


# --- the phone number, shared from Telegram ------------------------------------------------------


def _share_keyboard(tr: Translator) -> ReplyKeyboardMarkup:
    _ = tr.gettext
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_("📱 Share my phone number"), request_contact=True)],
         [KeyboardButton(_("Not now"))]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def ask_phone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """st:ph: the request-contact keyboard (Telegram shares the number of this very account)."""
    query = update.callback_query
    tr = translator(update, context)
    with runtime(context).db.session() as session:
        set_state(
            session,
            chat_id=update.effective_chat.id,
            user_id=query.from_user.id,
            flow=PHONE_FLOW,
            step="contact",
            reply_keyboard=True,
        )
    await query.answer()
    await reply_html(
        update,
        tr.gettext(
            "Press the button below to share the phone number of this Telegram account. I will "
            "offer you the applications registered at the counter with that number."
        ),
        _share_keyboard(tr),
    )


def is_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    message = update.effective_message
    return (
        message is not None
        and message.contact is not None
        and update.effective_chat.type == ChatType.PRIVATE
    )


async def phone_flow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    """The citizen's answer to the share button: their contact, "Not now", or something else
    (the keyboard goes, and the message is read as it would be outside)."""
    message = update.effective_message
    if message is not None and message.contact is not None:
        await shared_contact(update, context)
        return
    tr = translator(update, context)
    _ = tr.gettext
    with runtime(context).db.session() as session:
        clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
    if state.step != "contact":  # the offer is on screen; the citizen moved on
        await route_message(update, context)
        return
    text = (message.text or "").strip() if message is not None else ""
    await reply_html(update, _("OK, no phone number."), ReplyKeyboardRemove())
    if text and text != _("Not now"):
        await route_message(update, context)


async def shared_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared contact: only the citizen's own (a contact from the address book proves
    nothing), then the unfinished applications registered with that number."""
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    user_id = update.effective_user.id
    contact = update.effective_message.contact
    if contact.user_id != user_id:
        with rt.db.session() as session:
            set_state(session, chat_id=update.effective_chat.id, user_id=user_id,
                      flow=PHONE_FLOW, step="contact", reply_keyboard=True)
        await reply_html(
            update,
            _("That is someone else's contact. Please share your own number with the button "
              "below: I can only check the number of the account you write from."),
            _share_keyboard(tr),
        )
        return
    phone = normalize_phone(contact.phone_number)
    with rt.db.session() as session:
        found = registered_with_phone(session, phone, user_id=user_id) if phone else []
        clear_state(session, chat_id=update.effective_chat.id, user_id=user_id)
        if len(found) > 1:
            set_state(session, chat_id=update.effective_chat.id, user_id=user_id,
                      flow=PHONE_FLOW, step="offer", data={"ids": [a.id for a in found]})
    shown = escape(phone or contact.phone_number)
    await reply_html(update, _("Thank you. Your number: {phone}").format(phone=shown),
                     ReplyKeyboardRemove())
    if not found:
        await reply_html(
            update,
            _("No unfinished application is registered with this number. The officer may have "
              "written another number, or none: use the tracking number and the code on your "
              "receipt instead."),
        )
        await list_followed(update, context)
        return
    await reply_html(update, *_offer(context, tr, found, user_id))


def _offer(
    context: ContextTypes.DEFAULT_TYPE, tr: Translator, found: list[App], user_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    rt = runtime(context)
    now = utcnow()
    lines = [tr.ngettext(
        "<b>{n} application</b> is registered with your number:",
        "<b>{n} applications</b> are registered with your number:",
        len(found),
    ).format(n=len(found))]
    buttons = []
    for application in found:
        label = escape(service_steps(rt, application).label(application.status, tr))
        lines.append(f"• <code>{application.display_number}</code> "
                     f"{service_name(rt, application.service_id, tr)}: <b>{label}</b>")
        lines.append("  " + due_text(rt, application, tr, now))
        mac = follow_mac(context.bot.token, user_id, application.id)
        buttons.append([InlineKeyboardButton(
            _("🔔 Follow {number}").format(number=application.display_number),
            callback_data=CallbackData("st", "pf", application.id, mac).pack(),
        )])
    if len(found) > 1:
        buttons.append([InlineKeyboardButton(
            _("🔔 Follow all"), callback_data=CallbackData("st", "fa").pack()
        )])
    lines += ["", _("Follow one to get a message at every change, and the survey at the end.")]
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


def _without(markup: InlineKeyboardMarkup | None, data: set[str]) -> InlineKeyboardMarkup | None:
    """The offer's buttons minus those just used ("Follow all" too once one is left)."""
    rows = [
        [b for b in row if b.callback_data not in data]
        for row in (markup.inline_keyboard if markup is not None else ())
    ]
    rows = [row for row in rows if row]
    singles = [row for row in rows if row[0].callback_data != CallbackData("st", "fa").pack()]
    rows = singles if len(singles) < 2 else rows
    return InlineKeyboardMarkup(rows) if rows else None


async def offer_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """st:pf:<id>:<mac> follows one offered application; st:fa follows every one offered."""
    query = update.callback_query
    data = CallbackData.parse(query.data, "st", with_id={"pf"})
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    user_id = query.from_user.id
    followed: list[str] = []
    with rt.db.session() as session:
        if data is not None and data.action == "pf" and data.id is not None and data.arg:
            application = session.get(App, data.id)
            if application is not None and hmac.compare_digest(
                data.arg, follow_mac(context.bot.token, user_id, data.id)
            ):
                follow(session, application=application, user_id=user_id)
                followed.append(application.display_number)
        elif data is not None and data.action == "fa" and data.arg is None:
            state = get_state(session, chat_id=update.effective_chat.id, user_id=user_id)
            if state is not None and state.flow == PHONE_FLOW and state.step == "offer":
                for application_id in state.data.get("ids", []):
                    application = session.get(App, int(application_id))
                    if application is not None:
                        follow(session, application=application, user_id=user_id)
                        followed.append(application.display_number)
                clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
    if not followed:
        await unknown_button(update, context)
        return
    await query.answer(
        _("You will get a message at every change of {number}.").format(
            number=", ".join(followed)
        )
    )
    used = {query.data} if data.action == "pf" else {
        b.callback_data for row in query.message.reply_markup.inline_keyboard for b in row
    }
    await edit_in_place(query.edit_message_reply_markup(_without(query.message.reply_markup,
                                                                  used)))
