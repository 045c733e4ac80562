"""Telegram's rules shared by production and the emulator: callback data and limits."""

from __future__ import annotations

import pytest

from bot.telegram_rules.callback import MAX_ID, CallbackData, CallbackDataError
from bot.telegram_rules.limits import CALLBACK_DATA_LIMIT


def test_callback_data_packs_and_parses_back():
    data = CallbackData("cc", "fb", 42, "y")
    assert data.pack() == "cc:fb:42:y"
    assert CallbackData.parse("cc:fb:42:y", "cc", with_id={"fb"}) == data
    assert CallbackData("cf", "ok").pack() == "cf:ok"
    assert CallbackData.parse("cf:ok", "cf") == CallbackData("cf", "ok")
    # Without an id, everything after the action is the argument, separators included.
    topic = CallbackData.parse("svc:topic:ktp:requirements", "svc", with_id={"cat"})
    assert topic == CallbackData("svc", "topic", arg="ktp:requirements")
    assert topic.arg_parts(2) == ("ktp", "requirements")
    assert topic.arg_parts(3) is None


def test_callback_data_over_64_bytes_is_refused_when_the_button_is_built():
    with pytest.raises(CallbackDataError, match="64"):
        CallbackData("svc", "card", arg="x" * CALLBACK_DATA_LIMIT)
    assert CallbackData.fitting("svc", "card", arg="x" * CALLBACK_DATA_LIMIT) is None
    assert CallbackData.fitting("svc", "card", arg="ktp") == CallbackData("svc", "card", arg="ktp")
    with pytest.raises(CallbackDataError):
        CallbackData("c:c", "view", 1)
    with pytest.raises(CallbackDataError):
        CallbackData("cc", "view", MAX_ID + 1)


@pytest.mark.parametrize(
    "forged",
    [
        "cc:view:99999999999999999999",  # beyond BIGINT: refused, not a database error
        "cc:view:-1",
        "cc:view:１２",  # full-width digits pass str.isdigit but are not an id
        "cc:view:",
        "cc:view",
        "cx:view:1",  # another prefix
        "cc",
        "",
        None,
        "cc:" + "9" * 70,
    ],
)
def test_forged_callback_data_parses_to_none(forged):
    assert CallbackData.parse(forged, "cc", with_id={"view"}) is None


def test_the_largest_id_the_database_holds_is_accepted():
    parsed = CallbackData.parse(f"cc:view:{MAX_ID}", "cc", with_id={"view"})
    assert parsed is not None and parsed.id == MAX_ID
