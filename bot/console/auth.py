"""Signing in without passwords: a one-time link from the chat opens an 8-hour session.

Only SHA-256 hashes of link and session tokens are stored, so a copy of the database opens
nothing. Roles and units are read again on every request: a removed officer is out at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col

from bot.complaints.access import Viewer
from bot.console.models import ConsoleLoginLink, ConsoleSession
from bot.core.models import Staff, User, utcnow
from bot.core.runtime import Runtime
from bot.people.roles import audit, has_role, role_of

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=8)
# Ended links and sessions are deleted after this; who signed in when stays in the audit trail.
KEEP_ENDED = timedelta(days=1)
COOKIE = "servicebot_console"


class NotStaff(Exception):
    """Only officers, supervisors and admins get a console link."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def base_url(rt: Runtime) -> str:
    """Where links the bot gives start: PUBLIC_URL, else this machine's PORT."""
    return rt.settings.public_url or f"http://127.0.0.1:{rt.settings.port}"


def issue_link(
    session: Session, rt: Runtime, staff_id: int, *, now: datetime | None = None
) -> str:
    """A one-time sign-in link for a staff member, valid LINK_TTL."""
    now = now or utcnow()
    if not has_role(role_of(session, staff_id, rt.settings.admin_ids), "officer"):
        raise NotStaff
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleLoginLink(
            token_hash=token_hash(token), staff_id=staff_id, created_at=now,
            expires_at=now + LINK_TTL,
        )
    )
    audit(session, actor_id=staff_id, action="console.link")
    return f"{base_url(rt)}/console/login/{token}"


def redeem_link(
    session: Session, rt: Runtime, token: str, *, now: datetime | None = None
) -> str | None:
    """Use a link once: the new session's token, or None when the link is unknown, used,
    expired or its holder is no longer staff (one answer for all, so links cannot be probed)."""
    now = now or utcnow()
    link = session.get(ConsoleLoginLink, token_hash(token), with_for_update=True)
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    link.used_at = now
    session.add(link)
    if not has_role(role_of(session, link.staff_id, rt.settings.admin_ids), "officer"):
        return None
    secret = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=token_hash(secret), staff_id=link.staff_id, created_at=now,
            expires_at=now + SESSION_TTL,
        )
    )
    audit(session, actor_id=link.staff_id, action="console.login")
    return secret


@dataclass(frozen=True)
class Principal:
    """The signed-in staff member, as the database says now."""

    telegram_id: int
    role: str
    unit: str | None
    locale: str
    session_hash: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_supervisor(self) -> bool:
        return has_role(self.role, "supervisor")

    @property
    def viewer(self) -> Viewer:
        """The same viewer the chat's complaint handlers use, for the same access rules."""
        return Viewer(self.telegram_id, self.role, self.unit)


def principal_for(
    session: Session, rt: Runtime, token: str | None, *, now: datetime | None = None
) -> Principal | None:
    if not token:
        return None
    now = now or utcnow()
    hashed = token_hash(token)
    row = session.get(ConsoleSession, hashed)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    role = role_of(session, row.staff_id, rt.settings.admin_ids)
    if not has_role(role, "officer"):
        return None
    staff = session.get(Staff, row.staff_id)
    user = session.get(User, row.staff_id)
    return Principal(
        telegram_id=row.staff_id,
        role=role,
        unit=staff.unit if staff is not None else None,
        locale=user.language if user is not None else rt.settings.default_locale,
        session_hash=hashed,
    )


def sign_out(session: Session, principal: Principal, *, everywhere: bool = False) -> int:
    """End this session, or every session of this person; how many were ended."""
    now = utcnow()
    query = update(ConsoleSession).where(col(ConsoleSession.revoked_at).is_(None))
    if everywhere:
        query = query.where(ConsoleSession.staff_id == principal.telegram_id)
    else:
        query = query.where(ConsoleSession.token_hash == principal.session_hash)
    ended = session.exec(query.values(revoked_at=now)).rowcount  # type: ignore[call-overload]
    audit(
        session, actor_id=principal.telegram_id,
        action="console.logout_all" if everywhere else "console.logout", ended=ended,
    )
    return ended


def csrf_token(session_token: str) -> str:
    """Bound to the session: a page of another site can neither read nor guess it."""
    return hmac.new(session_token.encode(), b"console-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(session_token), given or "")


def purge_ended(session: Session, *, now: datetime | None = None) -> int:
    """Delete links and sessions that ended more than KEEP_ENDED ago; how many rows went."""
    before = (now or utcnow()) - KEEP_ENDED
    links = session.exec(  # type: ignore[call-overload]
        delete(ConsoleLoginLink).where(ConsoleLoginLink.expires_at < before)
    ).rowcount
    sessions = session.exec(  # type: ignore[call-overload]
        delete(ConsoleSession).where(
            or_(ConsoleSession.expires_at < before, col(ConsoleSession.revoked_at) < before)
        )
    ).rowcount
    return links + sessions
