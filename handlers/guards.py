"""The guards every update passes first: a redelivered update (this or another instance took
it already) is stopped, and a user past FLOOD_MAX_PER_MINUTE gets one polite notice, then
silence; plus the job that prunes their records."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    ContextTypes,
    TypeHandler,
)

from bot.core.metrics import METRICS
from bot.people.roles import has_role, role_of
from bot.webhook.flood import prune_flood_counts
from bot.webhook.store import TAKEN_BY_SERVER, admit_update, prune_processed, update_fingerprint
from handlers.common import (
    GROUP_GUARDS,
    reply_html,
    runtime,
    translator,
)

log = logging.getLogger(__name__)

PRUNE_INTERVAL = timedelta(minutes=10)


# --- guards ------------------------------------------------------------------------------


async def guard_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop a redelivered update (this or another process took it already), and a user's
    updates past FLOOD_MAX_PER_MINUTE: one polite notice, then silence until they calm down."""
    rt = runtime(context)
    user = update.effective_user
    # In webhook mode the server has already taken and counted the update (take_update).
    verdict = context.bot_data.get(TAKEN_BY_SERVER, {}).get(update.update_id)
    if verdict is None:
        verdict = admit_update(
            rt.db,
            update.update_id,
            user_id=user.id if user is not None else None,
            flood_limit=rt.settings.flood_max_per_minute,
            fingerprint=update_fingerprint(update.to_dict()),
        )
    if verdict == "duplicate":
        METRICS.updates_duplicate.inc()
        raise ApplicationHandlerStop
    if verdict == "ok" or user is None:
        return
    with rt.db.session() as session:
        if has_role(role_of(session, user.id, rt.settings.admin_ids), "officer"):
            return  # staff at the counter may work fast
    METRICS.updates_flood_dropped.inc()
    if verdict == "notify":
        _ = translator(update, context).gettext
        notice = _(
            "You are sending messages faster than I can answer everyone. Please wait a minute, "
            "then send your question again."
        )
        if update.callback_query is not None:
            await update.callback_query.answer(notice, show_alert=True)
        else:
            await reply_html(update, notice)
    raise ApplicationHandlerStop


async def count_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """For /metrics; menu.error_handler logs and tells the user."""
    METRICS.handler_failures.inc()


async def prune_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget handled update ids and past flood counts; every instance may run it."""
    with runtime(context).db.session() as session:
        prune_processed(session)
        prune_flood_counts(session)


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, guard_update), GROUP_GUARDS)
    app.add_error_handler(count_failure)
    if app.job_queue is not None:
        app.job_queue.run_repeating(prune_job, interval=PRUNE_INTERVAL, first=60)
