"""Logs mask personal data, in arguments and in tracebacks."""

from __future__ import annotations

import io
import logging

import pytest

from bot.core.logging import PersonalDataFilter, mask_personal

# --- logs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("NIK 3171012345678901 ok", "NIK [NIK **01] ok"),
        ("call 0812-3456-7890 now", "call [phone **90] now"),
        ("wa +62 812 3456 7890", "wa [phone **90]"),
        ("6281234567890", "[phone **90]"),
        ("user 6281234567 update 123456789", "user 6281234567 update 123456789"),
        ("chat -1001234567890", "chat -1001234567890"),
        ("17 digits 12345678901234567", "17 digits 12345678901234567"),
    ],
)
def test_mask_personal(raw, masked):
    assert mask_personal(raw) == masked


def test_log_records_are_masked_with_args_and_tracebacks():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(PersonalDataFilter())
    logger = logging.getLogger("test.masking")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("citizen %s phone %s", "3171012345678901", "081234567890")
        try:
            raise ValueError("bad NIK 3171012345678901")
        except ValueError:
            logger.exception("failed for 08123456789")
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    assert "3171012345678901" not in written
    assert "081234567890" not in written and "08123456789" not in written
    assert "citizen [NIK **01] phone [phone **90]" in written
    assert "ValueError: bad NIK [NIK **01]" in written
