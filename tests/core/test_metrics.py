"""The metrics text in Prometheus' format."""

from __future__ import annotations

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
    lines = metrics.render([("servicebot_outbox_pending", "Rows waiting.", 4)]).splitlines()
    assert "servicebot_updates_handled_total 3" in lines
    assert "servicebot_messages_sent_total 1" in lines
    assert "servicebot_telegram_429_total 1" in lines
    assert "servicebot_telegram_failures_total 1" in lines
    assert 'servicebot_update_handling_seconds_bucket{le="0.05"} 1' in lines
    assert 'servicebot_update_handling_seconds_bucket{le="0.5"} 2' in lines
    assert 'servicebot_update_handling_seconds_bucket{le="+Inf"} 2' in lines
    assert "servicebot_update_handling_seconds_count 2" in lines
    assert "# TYPE servicebot_outbox_pending gauge" in lines
    assert "servicebot_outbox_pending 4" in lines
