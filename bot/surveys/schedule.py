"""The scheduled job: send due invitations and reminders through the outbox, close expired ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.core.i18n import Translator
from bot.core.models import User, utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.outbox.store import enqueue
from bot.surveys.invitations import response_of, schedule_from_settings
from bot.surveys.models import (
    DECLINED,
    EXPIRED,
    OPEN_STATES,
    REMINDED,
    SCHEDULED,
    SENT,
    SurveyInvitation,
)
from bot.surveys.questionnaire import service_name, survey_config
from bot.telegram_rules.callback import CallbackData

# --- the schedule, run by the job ------------------------------------------------------------

INVITE_DEDUPE = "survey-invite:{id}"
REMIND_DEDUPE = "survey-remind:{id}"


def invitation_keyboard(_: Any, invitation_id: int, *, resume: bool = False) -> dict[str, Any]:
    """The Bot API shape of the Start / No thanks buttons."""
    start = _("Continue the survey") if resume else _("Start the survey")
    return {
        "inline_keyboard": [
            [
                {"text": start, "callback_data": CallbackData("sv", "go", invitation_id).pack()},
                {
                    "text": _("No, thanks"),
                    "callback_data": CallbackData("sv", "no", invitation_id).pack(),
                },
            ]
        ]
    }


def render_invitation(
    tr: Translator, service_name: str, questions: int, expires_at: datetime, tz: ZoneInfo
) -> str:
    _ = tr.gettext
    return "\n".join(
        [
            _("<b>How was our service?</b>"),
            _(
                "You recently used <b>{service}</b>. Please tell us how it went: {count} short "
                "questions, about one minute. Your answers are anonymous in our reports."
            ).format(service=escape(service_name), count=questions),
            _("The survey is open until {date}.").format(date=tr.date(expires_at, tz)),
        ]
    )


def render_reminder(tr: Translator, service_name: str, answered: int, questions: int) -> str:
    _ = tr.gettext
    if answered:
        body = _(
            "You answered {answered} of {count} questions about <b>{service}</b>. "
            "Would you finish the survey? It continues where you stopped."
        ).format(answered=answered, count=questions, service=escape(service_name))
    else:
        body = _(
            "A reminder: we would value your opinion about <b>{service}</b>: {count} short "
            "questions."
        ).format(service=escape(service_name), count=questions)
    return body


@dataclass
class TickResult:
    invited: int = 0
    reminded: int = 0
    expired: int = 0
    unreachable: int = 0


def process_due_invitations(
    session: Session, rt: Runtime, now: datetime | None = None, *, limit: int = 500
) -> TickResult:
    """Move every invitation whose time has come one step: send it, remind once, or expire it.

    The messages go into the outbox in this same transaction under a dedupe key per
    invitation and step, so a crash, a restart or a second bot process never sends one twice.
    """
    now = now or utcnow()
    config = survey_config(rt)
    schedule = schedule_from_settings(rt.settings)
    tz = rt.settings.tz
    result = TickResult()
    due = session.exec(
        select(SurveyInvitation)
        .where(SurveyInvitation.status.in_(OPEN_STATES), SurveyInvitation.next_at <= now)
        .order_by(SurveyInvitation.next_at)
        .limit(limit)
        # PostgreSQL: two processes take different rows; SQLite has one writer anyway.
        .with_for_update(skip_locked=True)
    ).all()
    for invitation in due:
        user = session.get(User, invitation.user_id)
        locale = user.language if user is not None else rt.settings.default_locale
        expired = invitation.expires_at is not None and invitation.expires_at <= now
        if invitation.status == SCHEDULED or (not expired and invitation.reminded_at is None):
            if user is not None and user.unreachable_since is not None:
                # Blocked the bot: nothing would arrive, and we do not ask again.
                _close(invitation, DECLINED, "unreachable", now)
                result.unreachable += 1
                session.add(invitation)
                continue
        if invitation.status == SCHEDULED:
            send_at = schedule.allowed(now)
            invitation.status = SENT
            invitation.sent_at = send_at
            invitation.expires_at = send_at + schedule.expires_after
            reminder_at = (
                schedule.allowed(send_at + schedule.reminder_after)
                if schedule.reminder_after is not None
                else None
            )
            invitation.next_at = (
                reminder_at
                if reminder_at is not None and reminder_at < invitation.expires_at
                else invitation.expires_at
            )
            tr = Translator(locale)
            enqueue(
                session,
                chat_id=invitation.user_id,
                text=render_invitation(
                    tr,
                    service_name(rt, invitation.service_id, locale),
                    len(config.elements),
                    invitation.expires_at,
                    tz,
                ),
                reply_markup=invitation_keyboard(tr.gettext, invitation.id),
                not_before=send_at,
                dedupe_key=INVITE_DEDUPE.format(id=invitation.id),
            )
            result.invited += 1
        elif not expired and invitation.reminded_at is None and invitation.status == SENT:
            response = response_of(session, invitation.id)
            answered = (
                sum(response.answer(e.code) is not None for e in config.elements)
                if response is not None
                else 0
            )
            send_at = schedule.allowed(now)
            invitation.status = REMINDED
            invitation.reminded_at = send_at
            invitation.next_at = invitation.expires_at
            tr = Translator(locale)
            enqueue(
                session,
                chat_id=invitation.user_id,
                text=render_reminder(
                    tr,
                    service_name(rt, invitation.service_id, locale),
                    answered,
                    len(config.elements),
                ),
                reply_markup=invitation_keyboard(tr.gettext, invitation.id, resume=answered > 0),
                not_before=send_at,
                dedupe_key=REMIND_DEDUPE.format(id=invitation.id),
            )
            result.reminded += 1
        else:
            _close(invitation, EXPIRED, "expired", now)
            result.expired += 1
        session.add(invitation)
    session.flush()
    return result


def _close(invitation: SurveyInvitation, status: str, reason: str, now: datetime) -> None:
    invitation.status = status
    invitation.next_at = None
    invitation.closed_at = now
    invitation.close_reason = reason
