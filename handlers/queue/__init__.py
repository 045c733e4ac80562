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

from bot.i18n import N_
from bot.models import utcnow
from bot.queue import board, privacy  # noqa: F401 - they register the board page and the personal-data kind
from bot.queue.jobs import tick
from bot.queue.service import config_of
from handlers import qa
from handlers.common import (
    CITIZEN_COMMANDS,
    GROUP_FEATURES,
    MESSAGE_ROUTES,
    register_flow,
    register_message_route,
    runtime,
)
from handlers.queue import citizen, counter, supervisor

log = logging.getLogger(__name__)

TICK_SECONDS = 30
QUEUE_COMMANDS = [
    ("antrean", "queue", N_("Book a visit to the office")),
    ("antreanku", "mybookings", N_("Your bookings: cancel or move")),
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
    CITIZEN_COMMANDS.extend(c for c in QUEUE_COMMANDS if c not in CITIZEN_COMMANDS)
    add = app.add_handler
    # Private chats only: a booking code, a QR image or a citizen's number must not land in a
    # group.
    private = filters.ChatType.PRIVATE
    add(CommandHandler(["antrean", "queue"], citizen.queue_command, filters=private),
        GROUP_FEATURES)
    add(CommandHandler(["antreanku", "mybookings"], citizen.my_bookings, filters=private),
        GROUP_FEATURES)
    add(CallbackQueryHandler(citizen.queue_command, pattern=r"^menu:queue$"), GROUP_FEATURES)
    add(CallbackQueryHandler(citizen.queue_button, pattern=r"^q:"), GROUP_FEATURES)
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
    add(CallbackQueryHandler(counter.counter_button, pattern=r"^qc:"), GROUP_FEATURES)
    add(CallbackQueryHandler(counter.walkin_button, pattern=r"^qw:"), GROUP_FEATURES)
    add(CallbackQueryHandler(counter.register_button, pattern=r"^qr:"), GROUP_FEATURES)
    register_flow(counter.APPLICATION_FLOW, counter.application_flow)
    add(CallbackQueryHandler(supervisor.stats_button, pattern=r"^qs:"), GROUP_FEATURES)
    if citizen.answer_banners not in qa.ANSWER_BANNERS:
        qa.ANSWER_BANNERS.append(citizen.answer_banners)
    if citizen.book_button not in qa.SERVICE_BUTTONS:
        qa.SERVICE_BUTTONS.append(citizen.book_button)
    # The route table is per process and tests build many Applications: add it once.
    if (citizen.is_location, citizen.location_check_in) not in MESSAGE_ROUTES:
        register_message_route(citizen.is_location, citizen.location_check_in)
    if app.job_queue is not None:
        app.job_queue.run_repeating(tick_job, interval=TICK_SECONDS, first=10, name="queue")
