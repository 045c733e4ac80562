"""Every kind of personal data the bot holds, registered in one place and in one order.

The order is the order of the export document (/dataku), and reversed, the order of erasure
(/hapusdata): the core's rows that others refer to come first, so they are erased last. A new
feature that stores data about a person adds its ``privacy.register`` here.
"""

from __future__ import annotations

from bot.applications import privacy as applications
from bot.complaints import privacy as complaints
from bot.console import privacy as console
from bot.conversation import privacy as conversation
from bot.feedback import privacy as questions
from bot.privacy.registry import register_core_kinds
from bot.queue import privacy as queue
from bot.surveys import privacy as surveys
from bot.webhook import privacy as webhook


def register_all_kinds() -> None:
    register_core_kinds()
    applications.register()
    complaints.register()
    surveys.register()
    queue.register()
    questions.register()
    console.register()
    conversation.register()
    webhook.register()
