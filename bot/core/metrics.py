"""Process-wide counters and a latency histogram, rendered in Prometheus' text format."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

# Seconds; chosen around the 300 ms update-to-reply target.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Counter:
    name: str
    help: str
    value: float = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


@dataclass
class Histogram:
    name: str
    help: str
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, seconds: float) -> None:
        self.total += seconds
        self.count += 1
        for index, bound in enumerate(self.buckets):
            if seconds <= bound:
                self.counts[index] += 1


class Metrics:
    """The numbers an operator watches; one instance per process (``METRICS``).

    Plain attributes rather than prometheus_client: a handful of counters does not justify a
    dependency, and the text format is small and stable.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the histogram is touched from handler threads too
        self.updates_received = Counter(
            "servicebot_updates_received_total", "Updates accepted by the webhook."
        )
        self.updates_handled = Counter(
            "servicebot_updates_handled_total", "Updates handled to the end."
        )
        self.updates_recovered = Counter(
            "servicebot_updates_recovered_total", "Updates taken over from a stopped instance."
        )
        self.updates_duplicate = Counter(
            "servicebot_updates_duplicate_total", "Redelivered updates skipped (already handled)."
        )
        self.updates_flood_dropped = Counter(
            "servicebot_updates_flood_dropped_total", "Updates dropped by per-user flood control."
        )
        self.webhook_rejected = Counter(
            "servicebot_webhook_rejected_total", "Webhook requests refused (secret, body, JSON)."
        )
        self.handler_failures = Counter(
            "servicebot_handler_failures_total", "Updates whose handling raised an error."
        )
        self.messages_sent = Counter(
            "servicebot_messages_sent_total", "Bot API send calls that Telegram accepted."
        )
        self.webhook_answers = Counter(
            "servicebot_webhook_answers_total",
            "Messages sent in the answer to the webhook request (an update's last message).",
        )
        self.rate_limited = Counter(
            "servicebot_telegram_429_total", "Bot API calls answered 429 Too Many Requests."
        )
        self.api_failures = Counter(
            "servicebot_telegram_failures_total", "Bot API calls answered with another error."
        )
        self.handler_latency = Histogram(
            "servicebot_update_handling_seconds", "Time from webhook arrival to handled."
        )

    def counters(self) -> list[Counter]:
        return [value for value in vars(self).values() if isinstance(value, Counter)]

    def observe_latency(self, seconds: float) -> None:
        with self._lock:
            self.handler_latency.observe(seconds)

    def render(self, gauges: Iterable[tuple[str, str, float]] = ()) -> str:
        """The Prometheus text exposition; ``gauges`` are (name, help, value) read at scrape."""
        lines: list[str] = []
        for counter in self.counters():
            lines += [
                f"# HELP {counter.name} {counter.help}",
                f"# TYPE {counter.name} counter",
                f"{counter.name} {_number(counter.value)}",
            ]
        with self._lock:
            hist = self.handler_latency
            lines += [f"# HELP {hist.name} {hist.help}", f"# TYPE {hist.name} histogram"]
            for bound, count in zip(hist.buckets, hist.counts, strict=True):
                lines.append(f'{hist.name}_bucket{{le="{bound}"}} {count}')
            lines += [
                f'{hist.name}_bucket{{le="+Inf"}} {hist.count}',
                f"{hist.name}_sum {_number(hist.total)}",
                f"{hist.name}_count {hist.count}",
            ]
        for name, help_text, value in gauges:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


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


def record_api_call(method: str, status: int, metrics: Metrics = METRICS) -> None:
    """Count one Bot API answer by its HTTP status."""
    if status == 429:
        metrics.rate_limited.inc()
    elif status >= 400:
        metrics.api_failures.inc()
    elif method in SEND_METHODS:
        metrics.messages_sent.inc()

