"""The queue feature in the chat: citizens book and check in, officers call, supervisors close
days, read the figures and post disruption notices (bot/queue/ holds the rules)."""

from __future__ import annotations

import logging

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.core.i18n import N_
from bot.core.models import utcnow
from bot.core.runtime import Runtime
from bot.queue import buttons
from bot.queue.board import board_routes
from bot.queue.jobs import tick
from bot.queue.service import config_of
from handlers.common import GROUP_FEATURES, runtime
from handlers.queue import citizen, counter, supervisor
from handlers.registry import registry_of

log = logging.getLogger(__name__)

TICK_SECONDS = 30
QUEUE_COMMANDS = [
    ("antrean", "queue", N_("Book a visit to the office")),
    ("antreanku", "mybookings", N_("Your bookings: cancel or move")),
]

QUEUE_STAFF_COMMANDS = [
    ("officer", "loket", "counter", N_("Open your counter")),
    ("officer", "panggil", "next", N_("Call the next visitor")),
    ("officer", "lewati", "skip", N_("Skip the visitor who did not come")),
    ("officer", "selesai", "done", N_("Finish the visitor at your counter")),
    ("officer", "checkin", "checkin", N_("Check a visitor in by booking code")),
    ("officer", "walkin", "walkin", N_("Give a number to a visitor without a booking")),
    ("supervisor", "tutup", "close", N_("Close a day for bookings")),
    ("supervisor", "statistik", "queuestats", N_("Queue figures")),
    ("supervisor", "gangguan", "disruption", N_("Post a disruption notice")),
]


async def tick_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    if config_of(rt) is None:
        return
    with rt.db.session() as session:
        result = tick(session, rt, utcnow())  # real time: a test moves the clock itself
    if result.evening or result.morning or result.skipped or result.notices_ended:
        log.info("queue: %s", result)


def register(app: Application) -> None:
    features = registry_of(app)
    for command in QUEUE_COMMANDS:
        features.add_menu_command(*command)
    features.keep_subject_for("antrean", "queue")  # books the service being talked about
    for command in QUEUE_STAFF_COMMANDS:
        features.add_staff_command(*command)
    add = app.add_handler
    # Private chats only: a booking code, a QR image or a citizen's number must not land in a
    # group.
    private = filters.ChatType.PRIVATE
    add(CommandHandler(["antrean", "queue"], citizen.queue_command, filters=private),
        GROUP_FEATURES)
    add(CommandHandler(["antreanku", "mybookings"], citizen.my_bookings, filters=private),
        GROUP_FEATURES)
    add(CallbackQueryHandler(citizen.queue_command, pattern=r"^menu:queue$"), GROUP_FEATURES)
    add(CallbackQueryHandler(citizen.queue_button, pattern=f"^{buttons.CITIZEN}:"), GROUP_FEATURES)
    for names, callback in (
        (["loket", "counter"], counter.desk_command),
        (["panggil", "next"], counter.next_command),
        (["lewati", "skip"], counter.skip_command),
        (["selesai", "done"], counter.done_command),
        (["checkin"], counter.checkin_command),
        (["walkin"], counter.walkin_command),
        (["tutup", "close"], supervisor.close_command),
        (["statistik", "queuestats"], supervisor.stats_command),
        (["gangguan", "disruption"], supervisor.notice_command),
    ):
        add(CommandHandler(names, callback, filters=private), GROUP_FEATURES)
    add(CallbackQueryHandler(counter.counter_button, pattern=f"^{buttons.COUNTER}:"),
        GROUP_FEATURES)
    add(CallbackQueryHandler(counter.walkin_button, pattern=f"^{buttons.WALK_IN}:"),
        GROUP_FEATURES)
    add(CallbackQueryHandler(counter.register_button, pattern=f"^{buttons.REGISTER}:"),
        GROUP_FEATURES)
    features.add_flow(counter.APPLICATION_FLOW, counter.application_flow)
    add(CallbackQueryHandler(supervisor.stats_button, pattern=f"^{buttons.STATS}:"),
        GROUP_FEATURES)
    features.add_answer_banner(citizen.answer_banners)
    features.add_service_button(citizen.book_button)
    features.add_message_route(citizen.is_location, citizen.location_check_in)
    rt: Runtime = app.bot_data["runtime"]
    # A runtime may serve a second Application (a restarted bot in the tests): one board.
    if board_routes not in rt.web_pages:
        rt.web_pages.append(board_routes)
    if app.job_queue is not None:
        app.job_queue.run_repeating(tick_job, interval=TICK_SECONDS, first=10, name="queue")
