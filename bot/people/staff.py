"""Managing staff roles: admins add and remove officers and supervisors, directly or by invite."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Column, String
from sqlmodel import Field, Session, SQLModel, select

from bot.applications.errors import InvalidInput
from bot.applications.tracking import ALPHABET
from bot.core.i18n import N_
from bot.core.models import Staff, User, UtcDateTime, utcnow
from bot.people.roles import audit

ASSIGNABLE = ("officer", "supervisor")
INVITE_TTL = timedelta(days=7)


class StaffInvite(SQLModel, table=True):
    """A one-time code an admin hands to a new officer, who sends /start <code> to the bot."""

    __tablename__ = "staff_invites"

    code: str = Field(sa_column=Column(String(24), primary_key=True))
    role: str = Field(max_length=16)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    expires_at: datetime = Field(sa_column=UtcDateTime(nullable=False))
    used_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    used_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))


def _check_role(role: str) -> str:
    if role not in ASSIGNABLE:
        raise InvalidInput(N_("The role must be officer or supervisor."))
    return role


def add_staff(session: Session, *, telegram_id: int, role: str, actor_id: int | None) -> Staff:
    """Give someone a role (or change it); admins themselves come from ADMIN_IDS."""
    _check_role(role)
    staff = session.get(Staff, telegram_id)
    before = staff.role if staff is not None else None
    if staff is None:
        staff = Staff(telegram_id=telegram_id, role=role, added_by=actor_id)
    staff.role = role
    session.add(staff)
    audit(session, actor_id=actor_id, action="staff.add", subject=str(telegram_id),
          role=role, before=before)
    return staff


def remove_staff(session: Session, *, telegram_id: int, actor_id: int | None) -> bool:
    staff = session.get(Staff, telegram_id)
    if staff is None:
        return False
    session.delete(staff)
    session.flush()
    audit(session, actor_id=actor_id, action="staff.remove", subject=str(telegram_id),
          role=staff.role)
    return True


def list_staff(session: Session) -> list[Staff]:
    return list(session.exec(select(Staff).order_by(Staff.role, Staff.telegram_id)).all())


def create_invite(
    session: Session, *, role: str, actor_id: int | None, now: datetime | None = None
) -> StaffInvite:
    now = now or utcnow()
    _check_role(role)
    code = "INV" + "".join(secrets.choice(ALPHABET) for _ in range(10))
    invite = StaffInvite(code=code, role=role, created_by=actor_id, created_at=now,
                         expires_at=now + INVITE_TTL)
    session.add(invite)
    audit(session, actor_id=actor_id, action="staff.invite", subject=code[:6] + "…", role=role)
    return invite


def looks_like_invite(text: str) -> bool:
    return text.strip().upper().startswith("INV") and len(text.strip()) == 13


def redeem_invite(
    session: Session, *, code: str, telegram_id: int, now: datetime | None = None
) -> Staff | None:
    """Use a one-time code: the sender gets its role. None when the code is unknown, used or
    expired (the same answer for each, so codes cannot be probed)."""
    now = now or utcnow()
    invite = session.exec(
        select(StaffInvite).where(StaffInvite.code == code.strip().upper()).with_for_update()
    ).first()
    if (
        invite is None
        or invite.role not in ASSIGNABLE
        or invite.used_at is not None
        or invite.expires_at < now
    ):
        return None
    invite.used_by = telegram_id
    invite.used_at = now
    session.add(invite)
    staff = add_staff(session, telegram_id=telegram_id, role=invite.role,
                      actor_id=invite.created_by)
    audit(session, actor_id=telegram_id, action="staff.invite_redeemed",
          subject=str(telegram_id), role=invite.role)
    return staff


JOIN_REQUEST_TTL = timedelta(days=1)


def request_join(
    session: Session, *, telegram_id: int, now: datetime | None = None
) -> StaffInvite:
    """The other way round: someone asks to join and gets a code to show an admin, who adds
    them with ``/officer add <code>`` without having to find out their Telegram id."""
    now = now or utcnow()
    code = "REQ" + "".join(secrets.choice(ALPHABET) for _ in range(10))
    request = StaffInvite(
        code=code,
        role="request",
        created_by=telegram_id,
        created_at=now,
        expires_at=now + JOIN_REQUEST_TTL,
    )
    session.add(request)
    return request


def redeem_join_request(
    session: Session, *, code: str, now: datetime | None = None
) -> int | None:
    """The Telegram id behind a join code, used up; None if unknown, used or expired."""
    now = now or utcnow()
    request = session.exec(
        select(StaffInvite).where(StaffInvite.code == code.strip().upper()).with_for_update()
    ).first()
    if (
        request is None
        or request.role != "request"
        or request.used_at is not None
        or request.expires_at < now
    ):
        return None
    request.used_at = now
    request.used_by = request.created_by
    session.add(request)
    return request.created_by


# --- the offline demo ---------------------------------------------------------------------------

DEMO_ROLES = ("citizen", "officer", "supervisor", "admin")


def set_demo_role(
    session: Session, *, telegram_id: int, role: str, language: str
) -> Staff | None:
    """The offline demo only (bot/offline.py, never a deployed bot): a user created in the web
    chat takes the role picked there, admin included, as the staff records hold it, so that a
    newcomer tries the officers' side without editing ADMIN_IDS. Their profile is created as at
    a first message, in the language picked, so their menu can be set before they write.
    Returns the staff row, or None for a citizen."""
    if role not in DEMO_ROLES:
        raise InvalidInput(N_("The role must be citizen, officer, supervisor or admin."))
    if session.get(User, telegram_id) is None:
        session.add(User(telegram_id=telegram_id, language=language))
    staff = session.get(Staff, telegram_id)
    if role == "citizen":
        if staff is not None:
            remove_staff(session, telegram_id=telegram_id, actor_id=None)
        return None
    before = staff.role if staff is not None else None
    if staff is None:
        staff = Staff(telegram_id=telegram_id, role=role)
    staff.role = role
    session.add(staff)
    audit(session, actor_id=None, action="staff.add", subject=str(telegram_id), role=role,
          before=before, offline_demo=True)
    return staff
