"""Citizens and their applications: /cekstatus (look up with the tracking number and the
verification code, typed however it was copied), following, and the followed list."""

from __future__ import annotations

import hmac

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ContextTypes,
)

from bot.applications.errors import ApplicationError, LookupLocked
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
from bot.applications.tracking import format_tracking_number, read_typed
from bot.conversation import understander_of
from bot.core.i18n import Translator
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
    main_menu,
    reply_html,
    route_message,
    runtime,
    translator,
    unknown_button,
)

LOOKUP_FLOW = "status_lookup"
# A message longer than this is a sentence, never a mistyped number and code.
ENTRY_MAX_WORDS = 4

# --- citizens: /status ------------------------------------------------------------------------


def way_out(tr: Translator) -> list[list[InlineKeyboardButton]]:
    """The buttons under every lookup prompt: find one's applications by phone number instead,
    or leave the lookup."""
    _ = tr.gettext
    return [
        [InlineKeyboardButton(_("📱 Find mine by phone number"),
                              callback_data=CallbackData("st", "ph").pack())],
        [InlineKeyboardButton(_("✖️ Cancel"), callback_data=CallbackData("st", "cx").pack())],
    ]


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    if args:
        await status_from_text(update, context, " ".join(args), typed=True)
    else:
        await list_followed(update, context)


def holds_tracking_number(text: str) -> bool:
    """A message outside the lookup that is sure to carry a tracking number (the conversation
    hands it to status_from_text instead of reading it as a question)."""
    return read_typed(text).in_free_text


async def status_from_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, *, typed: bool = False
) -> None:
    """A lookup in one message: /cekstatus with its arguments (``typed``), or a status
    question or a tracking number in free text."""
    found = read_typed(text)
    if found.number is not None and found.code is not None:
        await lookup_and_show(update, context, found.number, found.code)
    elif found.number is not None:
        await _ask_code(update, context, found.number)
    elif typed:
        await _keep_open(update, context, "number")
    else:
        await list_followed(update, context)


async def menu_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer()
    await list_followed(update, context)


def _open_lookup(
    update: Update, context: ContextTypes.DEFAULT_TYPE, step: str, number: str | None = None
) -> None:
    with runtime(context).db.session() as session:
        set_state(
            session,
            chat_id=update.effective_chat.id,
            user_id=update.effective_user.id,
            flow=LOOKUP_FLOW,
            step=step,
            data={"number": number} if number else None,
        )


async def _ask_code(update: Update, context: ContextTypes.DEFAULT_TYPE, number: str) -> None:
    tr = translator(update, context)
    _open_lookup(update, context, "code", number)
    await reply_html(
        update,
        _ask_code_text(tr, number),
        InlineKeyboardMarkup(way_out(tr)[1:]),
    )


def _ask_code_text(tr: Translator, number: str) -> str:
    return tr.gettext(
        "Tracking number <code>{number}</code>. Now send the 6-digit verification code "
        "printed on your receipt."
    ).format(number=format_tracking_number(number))


async def list_followed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    user_id = update.effective_user.id
    with rt.db.session() as session:
        followed = followed_by(session, user_id)
    _open_lookup(update, context, "number")
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
    await reply_html(update, "\n".join(lines), InlineKeyboardMarkup(buttons + way_out(tr)))


def _an_entry(context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """Whether a message at the lookup prompt is a try at the number or code (kept in the
    lookup, to try again) rather than a question (answered as one)."""
    words = text.split()
    if len(words) > ENTRY_MAX_WORDS:
        return False
    if any(ch.isdigit() for ch in text):
        return True
    if len(words) > 2:
        return False
    # One or two words without a digit: a try ("pfvy qgxx") unless it reads as a question
    # or small talk ("paspor", "terima kasih").
    return understander_of(runtime(context)).understand(text).kind == "unknown"


async def status_flow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    message = update.effective_message
    text = (message.text or "").strip() if message is not None else ""
    if not text:
        await _keep_open(update, context, state.step, state.data.get("number"), not_text=True)
        return
    found = read_typed(text)
    number = found.number or (state.data.get("number") if state.step == "code" else None)
    if number is not None and found.code is not None:
        await lookup_and_show(update, context, number, found.code)
    elif found.number is not None:
        await _ask_code(update, context, found.number)
    elif _an_entry(context, text):
        await _keep_open(update, context, state.step, state.data.get("number"))
    else:
        # A sentence, not a number and a code: the citizen moved on (asked a question, say).
        with runtime(context).db.session() as session:
            clear_state(session, chat_id=state.chat_id, user_id=state.user_id)
        await route_message(update, context)


async def _keep_open(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    step: str,
    number: str | None = None,
    *,
    not_text: bool = False,
) -> None:
    """A wrong entry: say what was expected, and keep the lookup open for another try."""
    tr = translator(update, context)
    _ = tr.gettext
    if step == "code" and number:
        _open_lookup(update, context, "code", number)
        text = _(
            "The verification code has 6 digits, printed on your receipt under the tracking "
            "number. Please send it again."
        )
        markup = way_out(tr)[1:]
    else:
        _open_lookup(update, context, "number")
        text = (
            _("Please send the tracking number and code as text.")
            if not_text
            else _(
                "I cannot read a tracking number in that. It has 8 letters and digits, for "
                "example <code>K7QM-3XPA</code>; spaces, dashes and small letters do not matter. "
                "Please check your receipt and send it again with the 6-digit code."
            )
        )
        markup = way_out(tr)
    await reply_html(update, text, InlineKeyboardMarkup(markup))


async def lookup_and_show(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    number: str,
    code: str,
    *,
    follow_now: bool = False,
) -> None:
    """Look the application up; on success show its card (and follow it at once when
    ``follow_now``: the receipt's link); on a wrong number or code keep the lookup open."""
    tr = translator(update, context)
    _ = tr.gettext
    rt = runtime(context)
    user_id = update.effective_user.id
    with rt.db.session() as session:
        clear_state(session, chat_id=update.effective_chat.id, user_id=user_id)
    try:
        with rt.db.session() as session:
            application = lookup(session, user_id=user_id, tracking_text=number, code=code)
            if follow_now:
                follow(session, application=application, user_id=user_id)
            events = history(session, application)
            following = is_follower(session, application_id=application.id, user_id=user_id)
    except LookupLocked as err:
        await reply_html(update, err.message(tr), main_menu(_))
        return
    except ApplicationError as err:
        _open_lookup(update, context, "number")
        await reply_html(
            update,
            err.message(tr) + "\n" + _("Send the number and the code again, or press Cancel."),
            InlineKeyboardMarkup(way_out(tr)),
        )
        return
    text = render_card(rt, application, events, tr)
    if follow_now:
        text += "\n\n" + _("🔔 You now follow this application: you get a message at every "
                           "change.")
    await reply_html(
        update, text, card_markup(context, tr, application, user_id, following=following)
    )


async def cancel_lookup(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """st:cx: leave the lookup prompt."""
    query = update.callback_query
    _ = translator(update, context).gettext
    with runtime(context).db.session() as session:
        clear_state(session, chat_id=update.effective_chat.id, user_id=query.from_user.id)
    await query.answer()
    await edit_in_place(query.edit_message_reply_markup(None))
    await reply_html(update, _("Closed. Ask me anything, or choose from the menu."), main_menu(_))


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
