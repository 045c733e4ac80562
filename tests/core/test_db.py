"""The database wrapper: a savepoint first in a transaction rolls back with it."""

from __future__ import annotations

import pytest


def test_savepoint_first_in_a_transaction_rolls_back_with_it(db):
    from bot.core.models import User

    with pytest.raises(RuntimeError):
        with db.session() as s:
            with s.begin_nested():
                s.add(User(telegram_id=42))
            raise RuntimeError("the unit of work fails after the savepoint")
    with db.session() as s:
        assert s.get(User, 42) is None
