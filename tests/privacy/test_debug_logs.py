"""At LOG_LEVEL=DEBUG, with the logging `servicebot serve` sets up, an anonymous complaint filed
through the webhook leaves no log record that holds the bot token, the webhook secret, or the
complainant's chat id beside the ticket."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.complaints.access import viewer_for
from bot.complaints.filing import get_complaint
from bot.complaints.handling import take
from bot.complaints.models import Complaint
from bot.core.logging import QUIET_LOGGERS, PersonalDataFilter, SecretFilter, configure_logging
from bot.core.models import Staff
from tests.support.complaints import file_in_chat
from tests.support.webhook import webhook_bot

TOKEN = "7123456789:AAHd3bugL0gs-Must_Not_Hold_This"
SECRET = "webhook-secret_Not-In-Logs-42"
GROUP = -100800
CITIZEN, OFFICER = 5209931177, 2001


@pytest.fixture
def debug_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The process's logging as the command line configures it at DEBUG, captured; put back
    as it was afterwards."""
    names = ["", *QUIET_LOGGERS]
    levels = {name: logging.getLogger(name).level for name in names}
    caplog.set_level(logging.DEBUG)
    configure_logging("DEBUG", secrets=[TOKEN, SECRET])
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    for handler in logging.getLogger().handlers:
        for added in [f for f in handler.filters
                      if isinstance(f, PersonalDataFilter | SecretFilter)]:
            handler.removeFilter(added)


async def test_debug_logs_hold_no_secret_and_no_chat_beside_an_anonymous_ticket(
    database_url, debug_logging
):
    async with webhook_bot(
        database_url, token=TOKEN, secret=SECRET, complaints_chat_id=GROUP
    ) as bot:
        with bot.rt.db.session() as s:
            s.add(Staff(telegram_id=OFFICER, role="officer"))
        citizen = bot.user(CITIZEN, first_name="Dewi")
        await citizen.send("/start")
        await citizen.reply()
        await file_in_chat(citizen, "Petugas loket dua membentak saya tanpa alasan.", "anonymous")
        await bot.group(GROUP).reply(timeout=8)
        # An officer takes it: the complainant is told through the outbox, with the ticket.
        with bot.rt.db.session() as s:
            complaint = s.exec(select(Complaint)).one()
            take(s, bot.rt, get_complaint(s, complaint.id, for_update=True),
                 actor=viewer_for(s, OFFICER))
        notice = await citizen.reply(timeout=8)
        assert complaint.ticket in notice.text
        await bot.finished()
        # A record that names the secrets itself is written redacted.
        logging.getLogger("bot.test").debug("token %s, secret %s", TOKEN, SECRET)

    texts = [r.getMessage() + "\n" + (r.exc_text or "") for r in debug_logging.records]
    assert any("token [redacted], secret [redacted]" in t for t in texts)
    key = TOKEN.split(":", 1)[1]
    for text in texts:
        assert key not in text and SECRET not in text, text
        assert not (str(CITIZEN) in text and complaint.ticket in text), text
