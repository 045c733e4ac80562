"""The citizen's personal-data commands (/dataku, /hapusdata), the supervisors' audit export,
and the daily retention job."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.core.db import Database
from bot.core.exports import to_csv, to_xlsx
from bot.core.i18n import N_, Translator
from bot.core.models import User, utcnow
from bot.core.offload import off_the_loop
from bot.people.roles import audit
from bot.privacy.registry import (
    AUDIT_COLUMNS,
    apply_retention,
    audit_rows,
    erase_personal_data,
    export_personal_data,
)
from bot.telegram_rules.callback import CallbackData
from bot.webhook.journal import keep_no_copy
from handlers.common import (
    GROUP_FEATURES,
    edit_in_place,
    main_menu,
    reply_html,
    runtime,
    staff_only,
    translator,
)
from handlers.registry import registry_of

log = logging.getLogger(__name__)

RETENTION_INTERVAL = timedelta(hours=24)


# --- personal data ------------------------------------------------------------------------


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def my_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/dataku: everything the bot holds about the user, as a JSON file."""
    tr = translator(update, context)
    _ = tr.gettext
    if not _private(update):
        await reply_html(update, _("For your privacy, use this command in a private chat with me."))
        return
    user_id = update.effective_user.id
    body = await off_the_loop(_personal_data_file, runtime(context).db, user_id)
    await update.effective_chat.send_document(
        InputFile(io.BytesIO(body), filename=f"dataku-{user_id}.json"),
        caption=_(
            "Everything this bot holds about you (UU 27/2022 on personal data protection). "
            "To have it deleted, send /hapusdata."
        ),
    )


def _personal_data_file(db: Database, user_id: int) -> bytes:
    """The /dataku file, in a report thread (bot/core/offload.py): a long history is a big file."""
    with db.session() as session:
        document = export_personal_data(session, user_id)
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def _audit_file(db: Database, since: datetime | None, as_csv: bool) -> bytes:
    with db.session() as session:
        rows = audit_rows(session, since=since)
    if as_csv:
        return to_csv(AUDIT_COLUMNS, rows).encode("utf-8")
    return to_xlsx(AUDIT_COLUMNS, rows, sheet="audit")


ERASE_YES = CallbackData("pd", "erase").pack()
ERASE_NO = CallbackData("pd", "keep").pack()


async def delete_my_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hapusdata: ask for confirmation before erasing anything."""
    _ = translator(update, context).gettext
    if not _private(update):
        await reply_html(update, _("For your privacy, use this command in a private chat with me."))
        return
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("Yes, delete my data"), callback_data=ERASE_YES)],
            [InlineKeyboardButton(_("No, keep it"), callback_data=ERASE_NO)],
        ]
    )
    await reply_html(
        update,
        _(
            "<b>Delete your data?</b>\n"
            "Your profile, your language choice, anything you were typing and the messages we "
            "keep for you will be deleted, and you will stop receiving notifications. "
            "This cannot be undone."
        ),
        keyboard,
    )


async def erase_confirmed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    rt = runtime(context)
    person = query.from_user
    user_id = person.id
    # One transaction: either every kind is erased or none is. The language is read first
    # because the user row is among what goes. The names Telegram gives are looked for in the
    # copies kept about the person (bot/privacy/identity.py). The audit line says that someone
    # was erased, never who: it would point back at them.
    with rt.db.session() as session:
        user = session.get(User, user_id)
        locale = user.language if user is not None else rt.settings.default_locale
        messages = erase_personal_data(
            session, user_id, names=(person.first_name, person.last_name, person.username,
                                     person.full_name),
        )
        audit(session, actor_id=None, action="personal_data.erased")
    # The answers below go as calls, not in the webhook's answer, which the webhook keeps for
    # two days (bot/webhook/journal.py): no copy of a message to the person outlives this.
    keep_no_copy()
    _ = Translator(locale).gettext
    await query.answer()
    await edit_in_place(query.edit_message_text(_("Your data has been deleted.")))
    lines = [_("<b>What happened to your data</b>"), ""]
    lines += [f"• {_(msgid)}" for msgid in messages]
    lines += ["", _("If you write to me again, I will start afresh.")]
    await reply_html(update, "\n".join(lines))


async def erase_cancelled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = translator(update, context).gettext
    await update.callback_query.answer()
    await edit_in_place(update.callback_query.edit_message_text(_("Nothing was deleted.")))
    await reply_html(update, _("What would you like to do?"), main_menu(_))


@staff_only("admin")
async def audit_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/audit [days] [csv]: the audit log as XLSX (CSV on request), for admins (default:
    everything)."""
    _ = translator(update, context).gettext
    args = list(context.args or [])
    as_csv = bool(args) and args[-1].lower() == "csv"
    if as_csv:
        args.pop()
    if len(args) > 1 or (args and not (args[0].isdigit() and 0 < int(args[0]) <= 3650)):
        await reply_html(update, _("Usage: /audit [days] [csv], for example /audit 30."))
        return
    since = utcnow() - timedelta(days=int(args[0])) if args else None
    # Written in a report thread (bot/core/offload.py), recorded back on the event loop.
    body = await off_the_loop(_audit_file, runtime(context).db, since, as_csv)
    with runtime(context).db.session() as session:
        audit(
            session,
            actor_id=update.effective_user.id,
            action="audit.exported",
            days=int(args[0]) if args else None,
        )
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    name = f"audit-{stamp}.csv" if as_csv else f"audit-{stamp}.xlsx"
    await update.effective_chat.send_document(
        InputFile(io.BytesIO(body), filename=name),
        caption=_("Audit log of staff actions (times in UTC).")
        if as_csv
        else _("Audit log of staff actions (times in UTC). As CSV: /audit csv"),
    )


# --- jobs ------------------------------------------------------------------------------------


async def retention_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    settings = runtime(context).settings
    with runtime(context).db.session() as session:
        done = apply_retention(
            session,
            {
                "applications": settings.retention_days_applications,
                "complaints": settings.retention_days_complaints,
                "surveys": settings.retention_days_surveys,
                "queue": settings.retention_days_queue,
                "messages": settings.retention_days_messages,
            },
        )
    if any(done.values()):
        log.info("retention: anonymised %s", done)


PERSONAL_DATA_COMMANDS = [
    ("dataku", "mydata", N_("Get the data I hold about you")),
    ("hapusdata", "deletemydata", N_("Delete your data")),
]


def register(app: Application) -> None:
    for command in PERSONAL_DATA_COMMANDS:
        registry_of(app).add_menu_command(*command)
    app.add_handler(CommandHandler(["dataku", "mydata"], my_data), GROUP_FEATURES)
    app.add_handler(CommandHandler(["hapusdata", "deletemydata"], delete_my_data), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(erase_confirmed, pattern=f"^{ERASE_YES}$"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(erase_cancelled, pattern=f"^{ERASE_NO}$"), GROUP_FEATURES)
    app.add_handler(CommandHandler("audit", audit_export), GROUP_FEATURES)
    registry_of(app).add_staff_command("admin", "audit", "audit", N_("Export the audit log"))
    if app.job_queue is not None:
        app.job_queue.run_repeating(retention_job, interval=RETENTION_INTERVAL, first=300)
