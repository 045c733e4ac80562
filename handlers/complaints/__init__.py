"""Complaints in the chat: the citizen's filing (citizen) and tickets (tickets), the
officers' handling (officers), lists, reports and jobs (reports). ``register`` adds them to an
Application."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.complaints.masking import REVEAL_PREFIX
from handlers.common import GROUP_FEATURES
from handlers.complaints.citizen import complaint_command, flow_button, flow_message
from handlers.complaints.officers import (
    duplicate_command,
    officer_message,
    reply_command,
    staff_button,
    unit_command,
)
from handlers.complaints.reports import (
    complaints_command,
    escalation_job,
    list_button,
    report_button,
    report_command,
    silent_close_job,
)
from handlers.complaints.reveal import reveal_button
from handlers.complaints.shared import (
    ADD_FLOW,
    ESCALATION_INTERVAL,
    FLOW,
    MENU_COMMANDS,
    OFFICER_FLOW,
    REOPEN_FLOW,
    SILENT_CLOSE_INTERVAL,
    STAFF_COMMANDS,
)
from handlers.complaints.tickets import (
    addition_message,
    complainant_button,
    reopen_message,
    ticket_command,
)
from handlers.registry import registry_of


def register(app: Application) -> None:
    features = registry_of(app)
    for command in MENU_COMMANDS:
        features.add_menu_command(*command)
    for command in STAFF_COMMANDS:
        features.add_staff_command(*command)
    features.add_flow(FLOW, flow_message)
    features.add_flow(ADD_FLOW, addition_message)
    features.add_flow(OFFICER_FLOW, officer_message)
    features.add_flow(REOPEN_FLOW, reopen_message)
    app.add_handler(CommandHandler(["pengaduan", "complaint"], complaint_command), GROUP_FEATURES)
    app.add_handler(
        CallbackQueryHandler(complaint_command, pattern=r"^menu:complaint$"), GROUP_FEATURES
    )
    app.add_handler(
        CommandHandler(["tiket", "ticket"], ticket_command, filters.ChatType.PRIVATE),
        GROUP_FEATURES,
    )
    app.add_handler(CommandHandler(["reply", "balas"], reply_command), GROUP_FEATURES)
    app.add_handler(CommandHandler(["duplikat", "duplicate"], duplicate_command), GROUP_FEATURES)
    app.add_handler(CommandHandler("complaints", complaints_command), GROUP_FEATURES)
    app.add_handler(CommandHandler("unit", unit_command), GROUP_FEATURES)
    app.add_handler(CommandHandler(["laporan", "report"], report_command), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(flow_button, pattern=r"^cf:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(complainant_button, pattern=r"^cc:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(staff_button, pattern=r"^cx:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(list_button, pattern=r"^cl:"), GROUP_FEATURES)
    app.add_handler(
        CallbackQueryHandler(reveal_button, pattern=f"^{REVEAL_PREFIX}:"), GROUP_FEATURES
    )
    app.add_handler(CallbackQueryHandler(report_button, pattern=r"^rp:"), GROUP_FEATURES)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            escalation_job, interval=ESCALATION_INTERVAL, first=60, name="complaints-escalate"
        )
        app.job_queue.run_repeating(
            silent_close_job,
            interval=SILENT_CLOSE_INTERVAL,
            first=120,
            name="complaints-close-silent",
        )
