"""The database wrapper: a savepoint first in a transaction rolls back with it; errors do not
carry the statement's parameters."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


def test_savepoint_first_in_a_transaction_rolls_back_with_it(db):
    from bot.core.models import User

    with pytest.raises(RuntimeError):
        with db.session() as s:
            with s.begin_nested():
                s.add(User(telegram_id=42))
            raise RuntimeError("the unit of work fails after the savepoint")
    with db.session() as s:
        assert s.get(User, 42) is None


def test_database_errors_do_not_carry_the_parameters(db):
    """A failed statement's message is logged with the 500: it must not hold a tracking
    number's verification code or a name."""
    with pytest.raises(DBAPIError) as raised:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table WHERE code = :code"),
                         {"code": "VERIFY-SECRET-42"})
    assert "VERIFY-SECRET-42" not in str(raised.value)
    assert "hidden due to hide_parameters" in str(raised.value)
    with pytest.raises(DBAPIError) as raised:
        with db.bookkeeping.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table WHERE code = :code"),
                         {"code": "VERIFY-SECRET-42"})
    assert "VERIFY-SECRET-42" not in str(raised.value)
