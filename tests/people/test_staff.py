"""Staff roles from the database: adding, removing, one-time invites and join codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.applications.errors import InvalidInput
from bot.core.models import AuditEntry, utcnow
from bot.people.roles import role_of
from bot.people.staff import (
    add_staff,
    create_invite,
    list_staff,
    redeem_invite,
    redeem_join_request,
    remove_staff,
    request_join,
)


def test_add_change_remove_and_audit(db):
    with db.session() as s:
        add_staff(s, telegram_id=5, role="officer", actor_id=1)
        add_staff(s, telegram_id=6, role="supervisor", actor_id=1)
    with db.session() as s:
        assert [(x.telegram_id, x.role) for x in list_staff(s)] == [(5, "officer"),
                                                                   (6, "supervisor")]
        add_staff(s, telegram_id=5, role="supervisor", actor_id=1)
        assert remove_staff(s, telegram_id=6, actor_id=1)
        assert not remove_staff(s, telegram_id=6, actor_id=1)
    with db.session() as s:
        assert role_of(s, 5, [1]) == "supervisor"
        assert role_of(s, 6, [1]) == "citizen"
        assert role_of(s, 1, [1]) == "admin"
        actions = [a.action for a in s.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]
    assert actions == ["staff.add", "staff.add", "staff.add", "staff.remove"]
    with pytest.raises(InvalidInput), db.session() as s:
        add_staff(s, telegram_id=7, role="admin", actor_id=1)


def test_an_invite_works_once(db):
    with db.session() as s:
        code = create_invite(s, role="officer", actor_id=1).code
    with db.session() as s:
        assert redeem_invite(s, code=code.lower(), telegram_id=50).role == "officer"
    with db.session() as s:
        assert redeem_invite(s, code=code, telegram_id=51) is None
        assert role_of(s, 50) == "officer"
        assert role_of(s, 51) == "citizen"


def test_an_expired_invite_or_a_join_code_is_not_an_invite(db):
    with db.session() as s:
        old = create_invite(s, role="supervisor", actor_id=1, now=utcnow() - timedelta(days=8))
        join = request_join(s, telegram_id=60)
    with db.session() as s:
        assert redeem_invite(s, code=old.code, telegram_id=50) is None
        assert redeem_invite(s, code=join.code, telegram_id=50) is None
        assert redeem_join_request(s, code=old.code) is None
        assert redeem_join_request(s, code=join.code) == 60
    with db.session() as s:
        assert redeem_join_request(s, code=join.code) is None
