"""Staff management in the chat: admins name officers and supervisors (/officer), and an
invited person joins with a code (/join, or the invitation's deep link); each change queues the
person's own "/" menu, and a periodic sync catches up on the rest (bot/people/menus.py)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.applications.errors import ApplicationError
from bot.core.i18n import N_
from bot.core.text import escape
from bot.people.menus import sync_menu, sync_menus
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
from bot.people.staff_names import remember_staff_name, staff_labels
from handlers.common import GROUP_FEATURES, reply_html, runtime, staff_only, translator
from handlers.registry import registry_of

log = logging.getLogger(__name__)

ROLE_LABELS = {"officer": N_("officer"), "supervisor": N_("supervisor"), "admin": N_("admin")}


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
                if telegram_id is not None:
                    add_staff(session, telegram_id=telegram_id, role=role, actor_id=admin)
                    sync_menu(session, rt, telegram_id)
                    label = staff_labels(session, [telegram_id]).get(telegram_id,
                                                                     str(telegram_id))
            if telegram_id is None:
                await reply_html(update, _("This code is unknown, used or expired."))
                return
            await reply_html(
                update,
                _("{user} is now {role}.").format(user=escape(label), role=_(ROLE_LABELS[role])),
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
                sync_menu(session, rt, int(args[1]))
            await reply_html(
                update,
                _("Removed {user}.").format(user=args[1])
                if removed
                else _("{user} has no staff role.").format(user=escape(args[1])),
            )
        elif action == "list":
            with rt.db.session() as session:
                staff = list_staff(session)
                labels = staff_labels(session, [s.telegram_id for s in staff])
            lines = [_("<b>Staff</b>")]
            lines += [
                f"• {escape(labels.get(s.telegram_id) or str(s.telegram_id))}"
                + (f" · {s.telegram_id}" if s.telegram_id in labels else "")
                + f": {_(ROLE_LABELS[s.role])}"
                for s in staff
            ]
            admin_label = _(ROLE_LABELS["admin"])
            lines += [f"• {i}: {admin_label} (ADMIN_IDS)" for i in rt.settings.admin_ids]
            await reply_html(update, "\n".join(lines))
        else:
            # Plain text: the placeholders in angle brackets are not HTML tags.
            await reply_html(update, escape(usage))
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
            if staff is not None:
                sync_menu(session, rt, user_id)
                remember_staff_name(session, user_id, update.effective_user.full_name)
        if staff is None:
            await reply_html(update, _("This code is unknown, used or expired."))
        else:
            await reply_html(
                update,
                _(
                    "Welcome! You are now {role}. Your commands are in the / menu and in /help."
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
    """/start INV...: a deep link or typed invite code; menu's /start must not answer too."""
    if context.args and looks_like_invite(context.args[0]):
        await join_command(update, context)
        raise ApplicationHandlerStop


# --- each staff member's own "/" menu (bot/people/menus.py) -----------------------------------

MENU_SYNC_SECONDS = 60


async def menu_sync_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Catch up on menus a change elsewhere called for: a role given on the command line or in
    another instance, an admin added to ADMIN_IDS, commands changed by a new release."""
    rt = runtime(context)
    with rt.db.session() as session:
        queued = sync_menus(session, rt)
    if queued:
        log.info("staff menus: %d queued", queued)


def register(app: Application) -> None:
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            menu_sync_job, interval=MENU_SYNC_SECONDS, first=MENU_SYNC_SECONDS,
            name="staff-menus",
        )
    # /start <invite code> must be seen before menu's /start: an earlier group, which stops
    # the update only when it carries a code.
    app.add_handler(
        CommandHandler(
            "start",
            start_with_invite,
            filters=filters.ChatType.PRIVATE & filters.Regex(r"^/start\s+INV"),
        ),
        GROUP_FEATURES - 1,
    )
    registry_of(app).add_staff_command(
        "admin", "officer", "officer", N_("Add, invite or remove officers")
    )
    # Private chats only: an invitation code must not land in a group.
    private = filters.ChatType.PRIVATE
    for names, callback in ((["officer"], officer_command), (["join"], join_command)):
        app.add_handler(CommandHandler(names, callback, filters=private), GROUP_FEATURES)
