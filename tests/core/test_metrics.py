"""/metrics on prometheus_client: the text in Prometheus' format, exact under threads."""

from __future__ import annotations

import sys
import threading

from prometheus_client.parser import text_string_to_metric_families

from bot.core.metrics import Metrics, record_api_call

# --- metrics and settings -------------------------------------------------------------------


def test_metrics_text_format():
    metrics = Metrics()
    metrics.updates_handled.inc(3)
    metrics.observe_latency(0.04)
    metrics.observe_latency(0.4)
    record_api_call("sendMessage", 200, metrics)
    record_api_call("sendMessage", 429, metrics)
    record_api_call("getMe", 200, metrics)
    record_api_call("sendMessage", 400, metrics)
    record_api_call("sendMessage", 403, metrics)
    lines = metrics.render([("servicebot_outbox_pending", "Rows waiting.", 4)]).splitlines()
    assert "servicebot_updates_handled_total 3.0" in lines
    assert "servicebot_messages_sent_total 1.0" in lines
    assert "servicebot_telegram_429_total 1.0" in lines
    assert "servicebot_telegram_403_total 1.0" in lines
    assert "servicebot_telegram_failures_total 2.0" in lines  # the 400 and the 403
    assert 'servicebot_update_handling_seconds_bucket{le="0.05"} 1.0' in lines
    assert 'servicebot_update_handling_seconds_bucket{le="0.5"} 2.0' in lines
    assert 'servicebot_update_handling_seconds_bucket{le="+Inf"} 2.0' in lines
    assert "servicebot_update_handling_seconds_count 2.0" in lines
    assert "# TYPE servicebot_outbox_pending gauge" in lines
    assert "servicebot_outbox_pending 4.0" in lines


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
