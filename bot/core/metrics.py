"""The numbers an operator watches, kept by prometheus_client and served on /metrics.

Per process: every `servicebot serve` instance counts what it did and answers its own
/metrics, and Prometheus scrapes each instance (docs/deployment.md, "Metrics"); sum the
counters and histograms over instances. prometheus_client's metrics take a lock of their own,
so the event loop, the transport's threads and the report threads count alike. The gauges read
from the database at scrape time (outbox depth, live instances) are the whole cluster's, the
same on every instance: take their max, not their sum.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# A `_created` series beside every counter and histogram would double the scrape for a time
# Prometheus already knows from the process's start.
disable_created_metrics()

# Seconds; chosen around the 300 ms update-to-reply target.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds from an outbox row being due to Telegram accepting it: a broadcast of thousands at
# 28 a second takes minutes; a 429 or a chat's interval adds seconds.
OUTBOX_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Count:
    """A counter, and the total it has reached (read by tests and benches)."""

    def __init__(self, name: str, help_text: str, registry: CollectorRegistry) -> None:
        self.name = name  # the exposed name, ending in _total
        self._registry = registry
        self._counter = Counter(name.removesuffix("_total"), help_text, registry=registry)

    def inc(self, amount: float = 1.0) -> None:
        self._counter.inc(amount)

    @property
    def value(self) -> float:
        return self._registry.get_sample_value(self.name) or 0.0


class Metrics:
    """This process's metrics (``METRICS``), in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry

        def count(name: str, help_text: str) -> Count:
            return Count(name, help_text, registry)

        self.updates_received = count(
            "servicebot_updates_received_total", "Updates accepted by the webhook."
        )
        self.updates_handled = count(
            "servicebot_updates_handled_total", "Updates handled to the end."
        )
        self.updates_recovered = count(
            "servicebot_updates_recovered_total",
            "Updates retaken: taken over from a stopped instance.",
        )
        self.updates_lost = count(
            "servicebot_updates_lost_total",
            "Updates whose message to the chat could not be delivered (the network failed).",
        )
        self.updates_duplicate = count(
            "servicebot_updates_duplicate_total", "Redelivered updates skipped (already handled)."
        )
        self.updates_flood_dropped = count(
            "servicebot_updates_flood_dropped_total", "Updates dropped by per-user flood control."
        )
        self.webhook_rejected = count(
            "servicebot_webhook_rejected_total", "Webhook requests refused (secret, body, JSON)."
        )
        self.handler_failures = count(
            "servicebot_handler_failures_total", "Updates whose handling raised an error."
        )
        self.messages_sent = count(
            "servicebot_messages_sent_total", "Bot API send calls that Telegram accepted."
        )
        self.webhook_answers = count(
            "servicebot_webhook_answers_total",
            "Messages sent in the answer to the webhook request (an update's last message).",
        )
        self.rate_limited = count(
            "servicebot_telegram_429_total", "Bot API calls answered 429 Too Many Requests."
        )
        self.forbidden = count(
            "servicebot_telegram_403_total",
            "Bot API calls answered 403 Forbidden (the user blocked the bot, or it left a group).",
        )
        self.api_failures = count(
            "servicebot_telegram_failures_total",
            "Bot API calls answered with an error other than 429 (403 included).",
        )
        self.handler_latency = Histogram(
            "servicebot_update_handling_seconds", "Time from webhook arrival to handled.",
            buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.reply_latency = Histogram(
            "servicebot_update_reply_seconds",
            "Time from webhook arrival to the update's first message or edit accepted by "
            "Telegram (or put in the webhook's answer).",
            buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.outbox_delay = Histogram(
            "servicebot_outbox_delay_seconds",
            "Time from an outbox row being due (queued, or put back after a 429 or a chat's "
            "interval) to Telegram accepting it.",
            buckets=OUTBOX_BUCKETS, registry=registry,
        )

    def observe_latency(self, seconds: float) -> None:
        self.handler_latency.observe(seconds)

    def render(self, gauges: Iterable[tuple[str, str, float]] = ()) -> str:
        """The Prometheus text exposition; ``gauges`` are (name, help, value) read at scrape."""
        text = generate_latest(self.registry).decode("utf-8")
        read = list(gauges)
        if read:
            scraped = CollectorRegistry()
            scraped.register(_Gauges(read))
            text += generate_latest(scraped).decode("utf-8")
        return text


class _Gauges(Collector):
    """Values read at scrape time, exposed as gauges."""

    def __init__(self, values: list[tuple[str, str, float]]) -> None:
        self.values = values

    def collect(self) -> Iterable[GaugeMetricFamily]:
        for name, help_text, value in self.values:
            yield GaugeMetricFamily(name, help_text, value=float(value))


METRICS = Metrics()

# Bot API methods that put something in a chat: what "messages sent" counts.
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendVenue",
        "sendLocation",
        "editMessageText",
        "copyMessage",
        "forwardMessage",
    }
)


def observe_reply(journal: object, metrics: Metrics = METRICS) -> None:
    """The update's first message or edit went out: its update-to-reply time, once."""
    received = getattr(journal, "received_at", None)
    if received is None or getattr(journal, "replied", True):
        return
    journal.replied = True  # type: ignore[attr-defined]
    metrics.reply_latency.observe(time.perf_counter() - received)


def record_api_call(method: str, status: int, metrics: Metrics = METRICS) -> None:
    """Count one Bot API answer by its HTTP status."""
    if status == 429:
        metrics.rate_limited.inc()
    elif status >= 400:
        metrics.api_failures.inc()
        if status == 403:
            metrics.forbidden.inc()
    elif method in SEND_METHODS:
        metrics.messages_sent.inc()
