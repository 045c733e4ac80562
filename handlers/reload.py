"""Knowledge reload on Telegram: the admins' /muatulang, and the job with which every instance
follows the published knowledge version."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import reload as kr
from bot.core.i18n import N_
from bot.core.text import escape
from bot.qa.knowledge import KnowledgeError
from handlers.common import GROUP_FEATURES, reply_html, runtime, staff_only, translator
from handlers.registry import registry_of

log = logging.getLogger(__name__)

MAX_PROBLEMS_SHOWN = 15  # the rest: `servicebot knowledge check` lists them all


@staff_only("admin")
async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/muatulang: validate the knowledge folder; if valid, every instance switches to it."""
    rt = runtime(context)
    _ = translator(update, context).gettext
    try:
        loaded = await asyncio.to_thread(kr.load, rt.settings)
    except KnowledgeError as exc:
        lines = [_("❌ <b>The knowledge base was not reloaded</b>: fix these problems first. "
                   "The current answers keep being used."), ""]
        lines += [f"<code>{escape(p)}</code>" for p in exc.problems[:MAX_PROBLEMS_SHOWN]]
        hidden = len(exc.problems) - MAX_PROBLEMS_SHOWN
        if hidden > 0:
            lines.append(_("… and {n} more (servicebot knowledge check lists them all).").format(
                n=hidden))
        await reply_html(update, "\n".join(lines))
        return
    version = kr.publish(rt.db, loaded, actor_id=update.effective_user.id)
    kr.switch(rt, loaded, version)
    log.info("knowledge base reloaded by %s: version %s", update.effective_user.id, version)
    await reply_html(update, _(
        "✅ Knowledge base reloaded (version {version}, {services} services). Every running "
        "instance switches to it within a minute."
    ).format(version=version, services=len(loaded.knowledge.services)))


async def poll_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every POLL_SECONDS: switch to the published version if it changed (read and validated
    in a worker thread, switched on the event loop)."""
    rt = runtime(context)
    try:
        ready = await asyncio.to_thread(kr.prepare, rt)
    except Exception:  # noqa: BLE001 - a database hiccup: the next poll tries again
        log.warning("knowledge version poll failed", exc_info=True)
        return
    if ready is not None:
        version, loaded = ready
        kr.switch(rt, loaded, version)
        log.info("knowledge base switched to version %s (%d services)", version,
                 len(loaded.knowledge.services))


def register(app: Application) -> None:
    kr.remember_served(app.bot_data["runtime"])
    app.add_handler(CommandHandler(["muatulang", "reload"], reload_command), GROUP_FEATURES)
    registry_of(app).add_staff_command(
        "admin", "muatulang", "reload", N_("Load the changed knowledge base")
    )
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            poll_job, interval=kr.POLL_SECONDS, first=kr.POLL_SECONDS, name="knowledge-reload",
            job_kwargs={"coalesce": True},
        )
