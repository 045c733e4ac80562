"""Disruption notices (/gangguan): the system is down, an officer is absent, blanks ran out,
the office closed for a disaster. Shown on top of answers about the service; the booked and
the followers of open applications are told once through the outbox, and get the all-clear
when it ends (by itself at the expected end, or by a supervisor)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core.i18n import N_, Translator
from bot.core.models import User
from bot.core.text import escape
from bot.outbox.store import enqueue
from bot.queue.buttons import step_data
from bot.queue.models import BOOKED, QueueBooking, QueueNotice, QueueNoticeRecipient
from bot.queue.service import QueueError, local_today

MAX_REASON = 500


def user_language_of(session: Session, user_id: int, default: str) -> str:
    user = session.get(User, user_id)
    return user.language if user is not None else default


def active_notices(session: Session, now: datetime, service_id: str | None = None
                   ) -> list[QueueNotice]:
    """Notices in force; for a service, its own and the whole office's."""
    query = select(QueueNotice).where(QueueNotice.ended_at.is_(None), QueueNotice.ends_at > now)
    if service_id is not None:
        query = query.where(or_(QueueNotice.service_id.is_(None),
                                QueueNotice.service_id == service_id))
    return list(session.exec(query.order_by(QueueNotice.id)).all())


def _scope(rt: Any, notice: QueueNotice, tr: Translator) -> str:
    if notice.service_id is None:
        return tr.gettext("all services")
    service = rt.knowledge.services.get(notice.service_id)
    return service.name(tr.locale) if service is not None else notice.service_id


def notice_text(rt: Any, notice: QueueNotice, tr: Translator) -> str:
    return tr.gettext("⚠️ <b>Service disruption</b> ({scope}): {reason}. Expected to end: "
                      "{end}.").format(scope=escape(_scope(rt, notice, tr)),
                                       reason=escape(notice.reason),
                                       end=tr.datetime(notice.ends_at, rt.tz))


def banner_lines(session: Session, rt: Any, service_id: str | None, tr: Translator,
                 now: datetime) -> list[str]:
    """The notices to show on top of an answer about ``service_id`` (None: any service)."""
    if service_id is None:
        notices = active_notices(session, now)
    else:
        notices = active_notices(session, now, service_id)
    return [notice_text(rt, n, tr) + "\n" for n in notices]


def _affected(session: Session, rt: Any, notice: QueueNotice, now: datetime) -> set[int]:
    """Citizens booked on the affected days, and followers of the service's open
    applications (when the application-status feature is installed)."""
    end_day = notice.ends_at.astimezone(rt.tz).date()
    query = select(QueueBooking.user_id).where(
        QueueBooking.status == BOOKED,
        QueueBooking.day >= local_today(rt, now),
        QueueBooking.day <= end_day,
        QueueBooking.user_id.is_not(None),
    )
    if notice.service_id is not None:
        query = query.where(QueueBooking.service_id == notice.service_id)
    people = set(session.exec(query).all())
    try:
        from bot.applications.models import Application, ApplicationFollower
        from bot.applications.statuses import FINAL_STATUSES
    except ImportError:
        return people
    followers = (
        select(ApplicationFollower.user_id)
        .join(Application, Application.id == ApplicationFollower.application_id)
        .where(Application.status.not_in(FINAL_STATUSES))
    )
    if notice.service_id is not None:
        followers = followers.where(Application.service_id == notice.service_id)
    return people | set(session.exec(followers).all())


def _move_markup(tr: Translator) -> dict:
    return {"inline_keyboard": [[{"text": tr.gettext("📅 My bookings"),
                                  "callback_data": step_data("mine")}]]}


def post_notice(session: Session, rt: Any, *, service_id: str | None, ends_at: datetime,
                reason: str, actor_id: int | None, now: datetime | None = None
                ) -> tuple[QueueNotice, int]:
    """Post a notice and tell everyone affected, once each; returns (notice, people told)."""
    now = now or rt.now()
    reason = " ".join(reason.split())
    if not 3 <= len(reason) <= MAX_REASON:
        raise QueueError(N_("Say in a few words what is wrong (3 to 500 characters)."))
    if service_id is not None and service_id not in rt.knowledge.services:
        raise QueueError(N_("Unknown service {service}."), service=service_id)
    if ends_at <= now:
        raise QueueError(N_("The expected end must be in the future."))
    notice = QueueNotice(service_id=service_id, reason=reason, created_by=actor_id,
                         created_at=now, ends_at=ends_at)
    session.add(notice)
    session.flush()
    told = 0
    for user_id in sorted(_affected(session, rt, notice, now)):
        try:
            with session.begin_nested():
                session.add(QueueNoticeRecipient(notice_id=notice.id, user_id=user_id))
        except IntegrityError:
            continue
        tr = Translator(user_language_of(session, user_id, rt.settings.default_locale))
        text = notice_text(rt, notice, tr) + "\n\n" + tr.gettext(
            "If you booked a visit on these days, you can move it to another day.")
        enqueue(session, not_before=now, chat_id=user_id, text=text, reply_markup=_move_markup(tr),
                dedupe_key=f"queue:notice:{notice.id}:{user_id}")
        told += 1
    return notice, told


def end_notice(session: Session, rt: Any, notice: QueueNotice, now: datetime | None = None
               ) -> int:
    """End a notice and send the all-clear to everyone who was told; returns how many."""
    now = now or rt.now()
    if notice.ended_at is None:
        notice.ended_at = min(now, notice.ends_at)
    if notice.all_clear_sent:
        return 0
    notice.all_clear_sent = True
    session.add(notice)
    recipients = session.exec(
        select(QueueNoticeRecipient.user_id).where(QueueNoticeRecipient.notice_id == notice.id)
    ).all()
    for user_id in recipients:
        tr = Translator(user_language_of(session, user_id, rt.settings.default_locale))
        text = tr.gettext("✅ <b>All clear</b> ({scope}): the disruption is over and service is "
                          "back to normal.").format(scope=escape(_scope(rt, notice, tr)))
        enqueue(session, not_before=now, chat_id=user_id, text=text,
                dedupe_key=f"queue:clear:{notice.id}:{user_id}")
    return len(recipients)


def end_active(session: Session, rt: Any, now: datetime | None = None, *,
               services: frozenset[str] | None = None, whole_office: bool = True) -> int:
    """``/gangguan selesai``: the notices in force end now; returns how many ended.
    ``services``: only notices of these services (None: of any service); ``whole_office``:
    the office-wide notices too (a unit's supervisor neither posts nor ends those)."""
    now = now or rt.now()
    notices = [
        notice for notice in active_notices(session, now)
        if (notice.service_id is None and whole_office)
        or (notice.service_id is not None and (services is None or notice.service_id in services))
    ]
    for notice in notices:
        end_notice(session, rt, notice, now)
    return len(notices)


def expire_notices(session: Session, rt: Any, now: datetime | None = None) -> int:
    """Notices past their expected end end by themselves, with the all-clear."""
    now = now or rt.now()
    due = session.exec(
        select(QueueNotice)
        .where(QueueNotice.all_clear_sent.is_(False), QueueNotice.ends_at <= now)
        .with_for_update(skip_locked=True)
    ).all()
    for notice in due:
        end_notice(session, rt, notice, now)
    return len(due)
