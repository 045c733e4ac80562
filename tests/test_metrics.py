"""/metrics on prometheus_client: exact under threads, and what the outbox sender counts."""

from __future__ import annotations

import sys
import threading

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import METRICS, Metrics, record_api_call
from bot.outbox import enqueue
from handlers.sender import drain_outbox


def _samples(text: str) -> dict[str, float]:
    return {
        sample.name + (str(sorted(sample.labels.items())) if sample.labels else ""): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_counts_from_many_threads_add_up():
    # The event loop, the transport's threads and the report threads all count: with threads
    # switched as often as possible, no increment or observation may get lost.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    metrics = Metrics()

    def work() -> None:
        for n in range(2000):
            metrics.updates_handled.inc()
            metrics.observe_latency(0.01 if n % 2 else 0.4)
            record_api_call("sendMessage", 200, metrics)

    threads = [threading.Thread(target=work) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    samples = _samples(metrics.render([("servicebot_outbox_pending", "Rows waiting.", 3)]))
    assert samples["servicebot_updates_handled_total"] == 16_000
    assert samples["servicebot_messages_sent_total"] == 16_000
    assert samples["servicebot_update_handling_seconds_count"] == 16_000
    assert samples["servicebot_update_handling_seconds_bucket[('le', '0.05')]"] == 8_000
    assert samples["servicebot_outbox_pending"] == 3
    assert not any(name.endswith("_created") for name in samples)


async def test_the_outbox_counts_its_sends_403s_and_delays(make_bot, database_url):
    bot = await make_bot(database_url)
    reader, blocker = bot.user(5101), bot.user(5102)
    await reader.send("/start")
    await reader.reply()
    await blocker.send("/start")
    await blocker.reply()
    blocker.block_bot()
    with bot.rt.db.session() as s:
        enqueue(s, chat_id=5101, text="Status berubah")
        enqueue(s, chat_id=5102, text="Status berubah")
    sent, forbidden, delays = (METRICS.messages_sent.value, METRICS.forbidden.value,
                               _samples(METRICS.render())["servicebot_outbox_delay_seconds_count"])
    assert await drain_outbox(bot.app, bot.rt) == 1
    assert METRICS.messages_sent.value == sent + 1
    assert METRICS.forbidden.value == forbidden + 1
    assert _samples(METRICS.render())["servicebot_outbox_delay_seconds_count"] == delays + 1
