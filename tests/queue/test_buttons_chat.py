"""Queue buttons come back from the user's device: data of the wrong shape, an unknown action,
an id too large for the database or someone else's booking is refused with the unknown-button
alert and changes nothing."""

from __future__ import annotations

from sqlmodel import select

from bot.core.models import Staff
from bot.queue.models import QueueBooking
from bot.queue.service import book
from tests.support.queue import MONDAY, TestClock, at

OFFICER, SUPERVISOR, CITIZEN = 7101, 7102, 2101

FORGED_BY_CITIZEN = (
    "q",  # no action
    "q:zz:ktp-el",  # an action the queue does not have
    "q:s",  # a booking step without its service
    "q:s:ktp-el:extra",  # one field too many
    "q:d:ktp-el",  # a day without the day
    "q:d:ktp-el:2027-03-22",  # a day in the wrong format
    "q:t:ktp-el:20270322:8h30",  # a slot that is no time
    "q:p:ktp-el:20270322:0800:z",  # a priority reason that does not exist
    "q:s:no-such-service",
    "q:x:abc",  # a booking id that is no number
    "q:x:99999999999999999999",  # past the database's BIGINT
    "q:md:1",  # a move without its day
    "q:mine:1",
)
FORGED_BY_STAFF = (
    (OFFICER, "qc:a"),
    (OFFICER, "qc:z:1"),
    (OFFICER, "qc:a:1:2"),
    (OFFICER, "qr:1"),  # the old shape, without its action
    (OFFICER, "qr:reg:x"),
    (OFFICER, "qw:add:ktp-el"),
    (OFFICER, "qw:add:no-such-service:n"),
    (OFFICER, "qw:add:ktp-el:z"),
    (SUPERVISOR, "qs:pdf:20270301:20270331"),
    (SUPERVISOR, "qs:csv:20270301"),
    (SUPERVISOR, "qs:csv:2027-03-01:2027-03-31"),
)


async def _refused(user, data: str) -> None:  # noqa: ANN001
    await user.forge_click(data)
    answer = await user.callback_answer()
    assert answer is not None, data
    assert answer["show_alert"] and "no longer valid" in answer["text"], data
    await user.expect_silence(0.1)


async def test_forged_queue_buttons_are_refused(bot):
    rt = bot.rt
    TestClock(rt, at(rt, MONDAY, 6, 0))
    with rt.db.session() as s:
        s.add(Staff(telegram_id=OFFICER, role="officer"))
        s.add(Staff(telegram_id=SUPERVISOR, role="supervisor"))
    with rt.db.session() as s:
        booking = book(s, rt, user_id=CITIZEN, language="en", service_id="ktp-el", day=MONDAY,
                       start="08:00", priority_reason=None, now=at(rt, MONDAY, 6, 0))
    citizen = bot.user(CITIZEN, language_code="en")
    officer = bot.user(OFFICER, language_code="en")
    supervisor = bot.user(SUPERVISOR, language_code="en")
    for user in (citizen, officer, supervisor):
        await user.send("/start")
        await user.reply()

    for data in FORGED_BY_CITIZEN:
        await _refused(citizen, data)
    by_id = {OFFICER: officer, SUPERVISOR: supervisor}
    for user_id, data in FORGED_BY_STAFF:
        await _refused(by_id[user_id], data)
    # Another citizen's id in a well-formed button.
    stranger = bot.user(2102, language_code="en")
    await stranger.send("/start")
    await stranger.reply()
    await _refused(stranger, f"q:xy:{booking.id}")

    with rt.db.session() as s:
        assert [(b.status, b.user_id) for b in s.exec(select(QueueBooking))] == [
            ("booked", CITIZEN)
        ]
    # The well-formed button of her own booking still works.
    await citizen.forge_click(f"q:x:{booking.id}")
    confirm = await citizen.reply()
    assert "Cancel this booking?" in confirm.text and booking.code in confirm.text
