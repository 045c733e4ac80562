"""The chat side of the staff console: /konsol gives a one-time sign-in link; the opt-out button
under the satisfaction survey's follow-up notices."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.console import auth, followups
from bot.console.web import routes as console_pages
from bot.core.i18n import N_
from bot.core.runtime import Runtime
from bot.core.text import escape
from handlers.common import (
    GROUP_FEATURES,
    edit_in_place,
    reply_html,
    runtime,
    staff_only,
    translator,
)
from handlers.registry import registry_of


@staff_only("officer")
async def console_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    with rt.db.session() as session:
        link = auth.issue_link(session, rt, update.effective_user.id)
    await reply_html(
        update,
        tr.gettext(
            "🔑 Your sign-in link to the staff console:\n{link}\n\nIt works once, for 10 "
            "minutes. Do not forward it: whoever opens it is signed in as you."
        ).format(link=escape(link)),
    )


async def opt_out_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    with rt.db.session() as session:
        followups.opt_out(session, query.from_user.id)
    await query.answer(tr.gettext("You will get no more of these messages."))
    if query.message is not None:
        await edit_in_place(query.edit_message_reply_markup(reply_markup=None))


PURGE_INTERVAL = 3600  # seconds


async def purge_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete ended sign-in links and sessions; every instance may run it."""
    with runtime(context).db.session() as session:
        auth.purge_ended(session)


def register(app: Application) -> None:
    registry_of(app).add_staff_command(
        "officer", "konsol", "console", N_("Sign in to the staff console")
    )
    # Private chats only: a sign-in link must never land in a group.
    app.add_handler(
        CommandHandler(["konsol", "console"], console_command, filters=filters.ChatType.PRIVATE),
        GROUP_FEATURES,
    )
    app.add_handler(
        CallbackQueryHandler(opt_out_button, pattern=f"^{followups.OPT_OUT_DATA}$"),
        GROUP_FEATURES,
    )
    rt: Runtime = app.bot_data["runtime"]
    # Served with the other features' pages in every mode (bot/web.py); once per runtime.
    if console_pages not in rt.web_pages:
        rt.web_pages.append(console_pages)
    if app.job_queue is not None:
        app.job_queue.run_repeating(purge_job, interval=PURGE_INTERVAL, first=120)
