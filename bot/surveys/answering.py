"""Answering the questionnaire step by step; every answer is recorded once, a repeated press
changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.surveys import ikm
from bot.surveys.invitations import SurveyError, owned_invitation, response_of
from bot.surveys.models import (
    ANSWERED,
    DECLINED,
    EXPIRED,
    OPEN_STATES,
    REMINDED,
    SCHEDULED,
    SENT,
    SurveyInvitation,
    SurveyResponse,
)
from bot.surveys.questionnaire import Element, ProfileQuestion, SurveyConfig

# --- the questionnaire -----------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """What to show next: a question (with its place), the suggestion, a profile question,
    or the end."""

    kind: str  # question | suggestion | profile | done
    invitation_id: int
    element: Element | None = None
    position: int = 0
    total: int = 0
    profile: ProfileQuestion | None = None


def next_step(config: SurveyConfig, invitation_id: int, response: SurveyResponse) -> Step:
    """The first unanswered element in questionnaire order, so a survey resumes where it
    stopped; after the elements, the optional steps recorded in ``response.step``."""
    if response.completed_at is None:
        for position, element in enumerate(config.elements, start=1):
            if response.answer(element.code) is None:
                return Step(
                    "question", invitation_id, element, position, len(config.elements)
                )
    if response.step == "suggestion":
        return Step("suggestion", invitation_id)
    if response.step.startswith("profile:"):
        question = config.profile_question(response.step.removeprefix("profile:"))
        if question is not None:
            return Step("profile", invitation_id, profile=question)
    return Step("done", invitation_id)


def _after(config: SurveyConfig, step: str) -> str:
    """The optional step that follows ``step``."""
    order = ["suggestion", *(f"profile:{p.field}" for p in config.profile), "done"]
    return order[order.index(step) + 1] if step in order else "done"


def begin(
    session: Session, config: SurveyConfig, *, invitation_id: int, user_id: int, now: datetime
) -> Step:
    """Start, or resume, the survey of an invitation; returns the step to show."""
    invitation = owned_invitation(session, invitation_id, user_id)
    if invitation.status in (DECLINED, EXPIRED):
        raise SurveyError(invitation.status)
    if invitation.status == SCHEDULED:
        # Pressed before the job sent it (on-demand, or a resent keyboard): it is open now.
        invitation.status = SENT
        invitation.sent_at = now
        invitation.expires_at = now + timedelta(days=7)
        invitation.next_at = invitation.expires_at
        session.add(invitation)
    response = response_of(session, invitation_id)
    if response is None:
        response = SurveyResponse(
            invitation_id=invitation_id,
            service_id=invitation.service_id,
            unit=invitation.unit,
            started_at=now,
        )
        try:
            with session.begin_nested():
                session.add(response)
        except IntegrityError:
            # The same press arrived twice at two processes: the other one created it.
            response = response_of(session, invitation_id)
            assert response is not None
    return next_step(config, invitation_id, response)


@dataclass(frozen=True)
class Outcome:
    recorded: bool  # False: a repeat, a stale button or a finished survey; nothing changed
    step: Step


def record_answer(
    session: Session,
    config: SurveyConfig,
    *,
    invitation_id: int,
    user_id: int,
    code: str,
    value: int,
    now: datetime,
) -> Outcome:
    """Record one element's answer once: a repeated press or a replayed update changes nothing."""
    element = config.element(code)
    if element is None or not ikm.SCALE_MIN <= value <= ikm.SCALE_MAX:
        raise SurveyError("bad_answer")
    invitation = owned_invitation(session, invitation_id, user_id)
    if invitation.status in (DECLINED, EXPIRED):
        raise SurveyError(invitation.status)
    response = response_of(session, invitation_id)
    if response is None:
        begin(session, config, invitation_id=invitation_id, user_id=user_id, now=now)
        response = response_of(session, invitation_id)
        assert response is not None
    column = getattr(SurveyResponse, element.column)
    # Compare-and-set in SQL: of two identical presses racing in two processes only one
    # finds the column still empty.
    changed = session.execute(
        update(SurveyResponse)
        .where(
            SurveyResponse.id == response.id,
            column.is_(None),
            SurveyResponse.completed_at.is_(None),
        )
        .values({element.column: value})
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(response)
    if changed and all(response.answer(e.code) is not None for e in config.elements):
        response.completed_at = now
        response.step = "suggestion"
        session.add(response)
        invitation.status = ANSWERED
        invitation.next_at = None
        invitation.closed_at = now
        invitation.close_reason = "answered"
        session.add(invitation)
    session.flush()
    return Outcome(bool(changed), next_step(config, invitation_id, response))


def _optional_step(
    session: Session, invitation_id: int, user_id: int, expected: str
) -> SurveyResponse | None:
    """The response if it is waiting at ``expected``; None when that step is already past."""
    owned_invitation(session, invitation_id, user_id)
    response = response_of(session, invitation_id)
    if response is None or response.step != expected:
        return None
    return response


def record_suggestion(
    session: Session,
    config: SurveyConfig,
    *,
    invitation_id: int,
    user_id: int,
    text: str | None,
    now: datetime,
) -> Outcome:
    """The free-text suggestion, or None to skip it."""
    response = _optional_step(session, invitation_id, user_id, "suggestion")
    if response is None:
        return Outcome(False, _current(session, config, invitation_id))
    response.suggestion = text.strip()[:2000] if text and text.strip() else None
    _advance(config, response, now)
    session.add(response)
    session.flush()
    return Outcome(True, next_step(config, invitation_id, response))


def record_profile(
    session: Session,
    config: SurveyConfig,
    *,
    invitation_id: int,
    user_id: int,
    field_name: str,
    option: str | None,
    now: datetime,
) -> Outcome:
    """One profile answer (an option code), or None to skip that question."""
    question = config.profile_question(field_name)
    if question is None or (option is not None and question.option(option) is None):
        raise SurveyError("bad_answer")
    response = _optional_step(session, invitation_id, user_id, f"profile:{field_name}")
    if response is None:
        return Outcome(False, _current(session, config, invitation_id))
    setattr(response, field_name, option)
    _advance(config, response, now)
    session.add(response)
    session.flush()
    return Outcome(True, next_step(config, invitation_id, response))


def _advance(config: SurveyConfig, response: SurveyResponse, now: datetime) -> None:
    response.step = _after(config, response.step)
    if response.step == "done":
        response.finished_at = now


def _current(session: Session, config: SurveyConfig, invitation_id: int) -> Step:
    response = response_of(session, invitation_id)
    if response is None:
        return Step("done", invitation_id)
    return next_step(config, invitation_id, response)


def decline(session: Session, *, invitation_id: int, user_id: int, now: datetime) -> bool:
    """The citizen said no: never asked again for this transaction. False if already closed."""
    invitation = owned_invitation(session, invitation_id, user_id)
    if invitation.status not in OPEN_STATES:
        return False
    invitation.status = DECLINED
    invitation.next_at = None
    invitation.closed_at = now
    invitation.close_reason = "declined"
    session.add(invitation)
    session.flush()
    return True


def invitation_of(session: Session, invitation_id: int, user_id: int) -> SurveyInvitation:
    return owned_invitation(session, invitation_id, user_id)


def open_invitations(session: Session, user_id: int) -> Sequence[SurveyInvitation]:
    """A citizen's invitations that can still be answered, newest first."""
    return session.exec(
        select(SurveyInvitation)
        .where(SurveyInvitation.user_id == user_id, SurveyInvitation.status.in_((SENT, REMINDED)))
        .order_by(SurveyInvitation.id.desc())
    ).all()


