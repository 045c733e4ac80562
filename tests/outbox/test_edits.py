"""Edits through the outbox, against the Bot API emulator: an edit names the row whose message
it edits, waits for that message to be sent, sends only the newest state, and fails cleanly
when there is no message to edit."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.core.models import utcnow
from bot.outbox.models import OutboxMessage
from bot.outbox.store import SUPERSEDED_REASON, enqueue, enqueue_edit
from handlers.outbox_delivery import drain_outbox

GROUP = -100990
BUTTON = {"inline_keyboard": [[{"text": "Take", "callback_data": "cx:take:1"}]]}


def _rows(bot) -> list[OutboxMessage]:
    with bot.rt.db.session() as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


async def test_an_edit_waits_for_its_message_and_only_the_newest_goes(make_bot, database_url):
    bot = await make_bot(database_url)
    group = bot.group(GROUP)
    later = utcnow() + timedelta(minutes=5)
    with bot.rt.db.session() as s:
        # The post is due only in five minutes; its edits are queued now.
        post = enqueue(s, chat_id=GROUP, text="Ticket 1 · <b>new</b>", reply_markup=BUTTON,
                       not_before=later)
        enqueue_edit(s, of=post, text="Ticket 1 · <b>taken</b>", reply_markup=BUTTON)
        enqueue_edit(s, of=post, text="Ticket 1 · <b>answered</b>")
    await drain_outbox(bot.app, bot.rt, now=utcnow() + timedelta(seconds=3))
    await group.expect_silence()  # the edit cannot go before its message
    post_row, first_edit, second_edit = _rows(bot)
    assert (first_edit.status, first_edit.last_error) == ("dropped", SUPERSEDED_REASON)
    assert second_edit.status == "pending" and second_edit.not_before > utcnow()

    await drain_outbox(bot.app, bot.rt, now=later + timedelta(seconds=1))
    await drain_outbox(bot.app, bot.rt, now=later + timedelta(seconds=10))
    sent, edited = await group.replies(2)
    assert (sent.text, sent.labels) == ("Ticket 1 · new", ["Take"])
    assert edited.edited and edited.message_id == sent.message_id
    # The newest state, and no buttons: an edit without them removes them, as on Telegram.
    assert (edited.text, edited.labels) == ("Ticket 1 · answered", [])
    post_row, _first, second_edit = _rows(bot)
    assert (post_row.status, post_row.message_id) == ("sent", sent.message_id)
    assert second_edit.status == "sent"
    assert [m.text for m in group.messages()] == ["Ticket 1 · answered"]


async def test_an_edit_of_a_message_never_sent_fails(make_bot, database_url):
    bot = await make_bot(database_url)
    bot.group(GROUP)
    with bot.rt.db.session() as s:
        post = enqueue(s, chat_id=GROUP, text="<b>unclosed")  # Telegram refuses it
        enqueue_edit(s, of=post, text="Ticket 1 · taken")
    await drain_outbox(bot.app, bot.rt, now=utcnow() + timedelta(seconds=3))
    await drain_outbox(bot.app, bot.rt, now=utcnow() + timedelta(seconds=6))
    post_row, edit = _rows(bot)
    assert post_row.status == "failed"
    assert (edit.status, edit.last_error) == ("failed", "the message to edit was never sent")


async def test_an_edit_to_what_the_message_already_says_is_done(make_bot, database_url):
    bot = await make_bot(database_url)
    group = bot.group(GROUP)
    with bot.rt.db.session() as s:
        post = enqueue(s, chat_id=GROUP, text="Ticket 2", reply_markup=BUTTON)
    await drain_outbox(bot.app, bot.rt, now=utcnow() + timedelta(seconds=2))
    await group.reply()
    with bot.rt.db.session() as s:
        post = s.get(OutboxMessage, post.id)
        enqueue_edit(s, of=post, text="Ticket 2", reply_markup=BUTTON)
    await drain_outbox(bot.app, bot.rt, now=utcnow() + timedelta(seconds=4))
    # Telegram says "message is not modified": nothing to change, and nothing failed.
    assert [row.status for row in _rows(bot)] == ["sent", "sent"]
