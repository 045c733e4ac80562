""""Anda berkata, kami lakukan": follow-up actions on the satisfaction survey's findings.

Supervisors record what the office did, with the day and the survey element it addresses
(PermenPAN-RB 14/2017 asks offices to publish the follow-up). Citizens who answered the survey
for that service (or unit) are told once through the outbox, and can opt out with a button.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import exists
from sqlmodel import Session, col, select

from bot.console.models import FollowUpAction, FollowUpOptOut
from bot.core.i18n import N_, Translator
from bot.core.models import User, utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.outbox.store import enqueue
from bot.people.roles import audit
from bot.surveys.models import SurveyInvitation, SurveyResponse
from bot.surveys.questionnaire import service_name, service_unit, survey_config
from bot.telegram_rules.callback import CallbackData

TEXT_MIN, TEXT_MAX = 10, 1000
OPT_OUT_DATA = CallbackData("fu", "stop").pack()  # the one button of this feature


class FollowUpProblem(Exception):
    """The form cannot be saved; args[0] is the msgid of the reason."""


def add_followup(
    session: Session,
    rt: Runtime,
    *,
    actor_id: int,
    actor_unit: str | None,
    service_id: str | None,
    element: str,
    text: str,
    taken_on: date,
) -> FollowUpAction:
    """Publish a follow-up action and queue the notices to the citizens concerned.

    A supervisor with a unit writes for that unit (and its services) only.
    """
    config = survey_config(rt)
    if config.element(element) is None:
        raise FollowUpProblem(N_("Choose the survey element the action addresses."))
    cleaned = " ".join((text or "").split())
    if not TEXT_MIN <= len(cleaned) <= TEXT_MAX:
        raise FollowUpProblem(N_("Describe the action in 10 to 1,000 characters."))
    if taken_on > utcnow().astimezone(rt.tz).date():
        raise FollowUpProblem(N_("The date cannot be in the future."))
    service_id = service_id or None
    if service_id is not None and service_id not in rt.knowledge.services:
        raise FollowUpProblem(N_("Unknown service."))
    unit = service_unit(rt, service_id) if service_id else actor_unit
    if actor_unit is not None and unit != actor_unit:
        raise FollowUpProblem(N_("That service belongs to another unit."))
    action = FollowUpAction(
        unit=unit, service_id=service_id, element=element, text=cleaned, taken_on=taken_on,
        created_by=actor_id,
    )
    session.add(action)
    session.flush()
    audit(session, actor_id=actor_id, action="ikm.followup", subject=str(action.id),
          service=service_id, unit=unit, element=element)
    notify_respondents(session, rt, action)
    return action


def notify_respondents(session: Session, rt: Runtime, action: FollowUpAction) -> int:
    """One notice per citizen who completed the survey for the action's service (or unit, or
    any, for an office-wide action) and did not opt out; the dedupe key keeps it to one."""
    query = (
        select(SurveyInvitation.user_id, User.language)
        .join(SurveyResponse, col(SurveyResponse.invitation_id) == SurveyInvitation.id)
        .join(User, User.telegram_id == SurveyInvitation.user_id, isouter=True)
        .where(col(SurveyResponse.completed_at).is_not(None))
        .where(~exists().where(FollowUpOptOut.user_id == SurveyInvitation.user_id))
        .distinct()
    )
    if action.service_id is not None:
        query = query.where(SurveyResponse.service_id == action.service_id)
    elif action.unit is not None:
        query = query.where(SurveyResponse.unit == action.unit)
    told = 0
    for user_id, language in session.exec(query).all():
        tr = Translator(language or rt.settings.default_locale)
        enqueue(
            session,
            chat_id=user_id,
            text=render_notice(rt, action, tr),
            reply_markup={"inline_keyboard": [[{
                "text": tr.gettext("🔕 No more of these messages"),
                "callback_data": OPT_OUT_DATA,
            }]]},
            disable_web_page_preview=True,
            dedupe_key=f"ikm-followup:{action.id}:{user_id}",
        )
        told += 1
    return told


def render_notice(rt: Runtime, action: FollowUpAction, tr: Translator) -> str:
    _ = tr.gettext
    element = survey_config(rt).element(action.element)
    subject = (
        service_name(rt, action.service_id, tr.locale) if action.service_id
        else (action.unit or _("the whole office"))
    )
    lines = [
        _("📣 <b>You said, we did</b>"),
        _("Thank you for answering our satisfaction survey. About {subject} ({element}), the "
          "office has done this:").format(
            subject=escape(subject), element=escape(element.name.get(tr.locale) if element
                                                    else action.element)),
        "",
        escape(action.text),
        "",
        _("Since {date}.").format(
            date=tr.date(datetime.combine(action.taken_on, time(12), tzinfo=rt.tz), rt.tz)
        ),
    ]
    return "\n".join(lines)


def opt_out(session: Session, user_id: int) -> bool:
    """No more follow-up notices for this citizen; False when already opted out."""
    if session.get(FollowUpOptOut, user_id) is not None:
        return False
    session.add(FollowUpOptOut(user_id=user_id))
    audit(session, actor_id=user_id, action="ikm.followup_optout")
    return True


def list_followups(
    session: Session, *, unit: str | None = None, service_ids: list[str] | None = None,
    limit: int = 100,
) -> list[FollowUpAction]:
    """Newest first; ``unit`` keeps the actions of one unit (and its services)."""
    query = select(FollowUpAction)
    if unit is not None:
        query = query.where(FollowUpAction.unit == unit)
    if service_ids is not None:
        query = query.where(col(FollowUpAction.service_id).in_(service_ids))
    return list(
        session.exec(
            query.order_by(col(FollowUpAction.taken_on).desc(), col(FollowUpAction.id).desc())
            .limit(limit)
        ).all()
    )
