"""Satisfaction surveys (SKM): configuration, invitations, answers and their schedule."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from bot import ikm
from bot.applications.models import Application, ApplicationFollower
from bot.core.config import Settings
from bot.core.i18n import Translator
from bot.core.models import User, UtcDateTime, utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.core.timewindows import QuietHours
from bot.outbox.store import enqueue
from bot.telegram_rules.callback import CallbackData

MAX_ELEMENTS = 16  # answer columns u1..u16: room for 14/2017's 9, 25/2004's 14 and additions
ELEMENT_CODE_RE = re.compile(r"^U([1-9]|1[0-6])$")
PROFILE_FIELDS = ("age_group", "sex", "education", "occupation")
OPTION_CODE_RE = re.compile(r"^[a-z0-9_]{1,12}$")


# --- configuration ---------------------------------------------------------------------------


class SurveyConfigError(Exception):
    """The survey file is invalid; ``problems`` lists each one as ``file: field: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Localized:
    id: str
    en: str

    def get(self, locale: str) -> str:
        return self.en if locale == "en" else self.id


@dataclass(frozen=True)
class Element:
    code: str  # U1..U16: also names the answer column, so reordering never moves answers
    name: Localized
    question: Localized
    answers: tuple[Localized, Localized, Localized, Localized]  # labels for 1, 2, 3, 4
    weight: Fraction

    @property
    def column(self) -> str:
        return self.code.lower()


@dataclass(frozen=True)
class ProfileOption:
    code: str
    label: Localized


@dataclass(frozen=True)
class ProfileQuestion:
    field: str  # one of PROFILE_FIELDS
    question: Localized
    options: tuple[ProfileOption, ...]

    def option(self, code: str) -> ProfileOption | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class SurveyConfig:
    rule: str
    elements: tuple[Element, ...]  # in the order they are asked
    profile: tuple[ProfileQuestion, ...] = ()
    units: dict[str, str] = field(default_factory=dict)  # service id -> reporting unit
    source: str = "survey.yaml"

    @property
    def weights(self) -> tuple[Fraction, ...]:
        return tuple(e.weight for e in self.elements)

    def element(self, code: str) -> Element | None:
        return next((e for e in self.elements if e.code == code), None)

    def position(self, code: str) -> int:
        """1-based place of an element in the questionnaire."""
        return [e.code for e in self.elements].index(code) + 1

    def profile_question(self, field_name: str) -> ProfileQuestion | None:
        return next((p for p in self.profile if p.field == field_name), None)

    def unit_of(self, service_id: str, category: str | None = None) -> str | None:
        """The reporting unit: configured per service, else the knowledge base's category."""
        return self.units.get(service_id, category)


def _localized(value: Any, where: str, problems: list[str]) -> Localized:
    if isinstance(value, dict):
        ident, english = value.get("id"), value.get("en")
        unknown = set(value) - {"id", "en"}
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (use id, en)")
        if all(isinstance(t, str) and t.strip() for t in (ident, english)):
            return Localized(ident.strip(), english.strip())
    problems.append(f"{where}: needs text in both languages, e.g. {{id: ..., en: ...}}")
    return Localized("?", "?")


def _weight(value: Any, where: str, problems: list[str]) -> Fraction | None:
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str):
            return Fraction(value.replace(" ", ""))
        if isinstance(value, int | float):
            return Fraction(str(value))
        raise ValueError
    except (ValueError, ZeroDivisionError):
        problems.append(f"{where}: must be a number or a fraction such as 1/9, not {value!r}")
        return None


def parse_survey_config(data: Any, source: str = "survey.yaml") -> SurveyConfig:
    """Validate the parsed YAML; every problem is reported at once, each with its place."""
    problems: list[str] = []

    def at(path: str) -> str:
        return f"{source}: {path}"

    if not isinstance(data, dict):
        raise SurveyConfigError([at("the file must be a mapping with rule, elements, profile")])
    unknown = set(data) - {"rule", "elements", "profile", "units"}
    if unknown:
        problems.append(at(f"unknown key(s) {', '.join(sorted(unknown))}"))
    rule_code = str(data.get("rule", ikm.DEFAULT_RULE))
    if rule_code not in ikm.RULES:
        problems.append(at(f"rule: {rule_code!r} is not one of {', '.join(ikm.RULES)}"))

    raw_elements = data.get("elements")
    elements: list[Element] = []
    if not isinstance(raw_elements, list) or not raw_elements:
        problems.append(at("elements: a list of at least one element is required"))
        raw_elements = []
    if len(raw_elements) > MAX_ELEMENTS:
        problems.append(at(f"elements: at most {MAX_ELEMENTS} elements"))
    weights_given = [isinstance(e, dict) and "weight" in e for e in raw_elements]
    if any(weights_given) and not all(weights_given):
        problems.append(at("elements: give a weight to every element or to none"))
    seen: set[str] = set()
    for number, raw in enumerate(raw_elements, start=1):
        where = f"elements[{number}]"
        if not isinstance(raw, dict):
            problems.append(at(f"{where}: must be a mapping with code, name, question, answers"))
            continue
        extra = set(raw) - {"code", "name", "question", "answers", "weight"}
        if extra:
            problems.append(at(f"{where}: unknown key(s) {', '.join(sorted(extra))}"))
        code = str(raw.get("code", ""))
        if not ELEMENT_CODE_RE.match(code):
            problems.append(at(f"{where}.code: {code!r} must be U1 to U{MAX_ELEMENTS}"))
        elif code in seen:
            problems.append(at(f"{where}.code: {code} appears twice"))
        seen.add(code)
        answers = raw.get("answers")
        labels: list[Localized] = []
        if not isinstance(answers, list) or len(answers) != ikm.SCALE_MAX:
            problems.append(
                at(f"{where}.answers: needs exactly {ikm.SCALE_MAX} labels, from 1 (worst) to 4")
            )
        else:
            labels = [
                _localized(a, at(f"{where}.answers[{i}]"), problems)
                for i, a in enumerate(answers, start=1)
            ]
        weight = Fraction(1, len(raw_elements))
        if "weight" in raw:
            weight = _weight(raw["weight"], at(f"{where}.weight"), problems) or weight
            if weight <= 0:
                problems.append(at(f"{where}.weight: must be more than 0"))
        elements.append(
            Element(
                code=code,
                name=_localized(raw.get("name"), at(f"{where}.name"), problems),
                question=_localized(raw.get("question"), at(f"{where}.question"), problems),
                answers=tuple(labels) if len(labels) == 4 else (Localized("?", "?"),) * 4,  # type: ignore[arg-type]
                weight=weight,
            )
        )
    if elements and all(weights_given):
        total = sum(e.weight for e in elements)
        if abs(total - 1) > Fraction(1, 10**6):
            problems.append(
                at(f"elements: the weights sum to {float(total):.6f}; they must sum to 1 "
                   "(write fractions such as 1/9 to be exact)")
            )
    profile: list[ProfileQuestion] = []
    raw_profile = data.get("profile", [])
    if not isinstance(raw_profile, list):
        problems.append(at("profile: must be a list"))
        raw_profile = []
    for number, raw in enumerate(raw_profile, start=1):
        where = f"profile[{number}]"
        if not isinstance(raw, dict):
            problems.append(at(f"{where}: must be a mapping with field, question, options"))
            continue
        name = raw.get("field")
        if name not in PROFILE_FIELDS:
            fields = ", ".join(PROFILE_FIELDS)
            problems.append(at(f"{where}.field: {name!r} must be one of {fields}"))
        options: list[ProfileOption] = []
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or not 2 <= len(raw_options) <= 8:
            problems.append(at(f"{where}.options: needs 2 to 8 options"))
            raw_options = []
        for i, option in enumerate(raw_options, start=1):
            code = str(option.get("code", "")) if isinstance(option, dict) else ""
            if not OPTION_CODE_RE.match(code):
                problems.append(
                    at(f"{where}.options[{i}].code: {code!r} must be 1-12 of a-z, 0-9, _")
                )
            label = option.get("label") if isinstance(option, dict) else None
            options.append(
                ProfileOption(code, _localized(label, at(f"{where}.options[{i}].label"), problems))
            )
        profile.append(
            ProfileQuestion(
                field=str(name),
                question=_localized(raw.get("question"), at(f"{where}.question"), problems),
                options=tuple(options),
            )
        )
    if len({p.field for p in profile}) != len(profile):
        problems.append(at("profile: each field may be asked only once"))

    units = data.get("units", {}) or {}
    if not isinstance(units, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and 0 < len(v) <= 80 for k, v in units.items()
    ):
        problems.append(at("units: must map service ids to unit names (up to 80 characters)"))
        units = {}
    if problems:
        raise SurveyConfigError(problems)
    return SurveyConfig(
        rule=rule_code,
        elements=tuple(elements),
        profile=tuple(profile),
        units=dict(units),
        source=source,
    )


def load_survey_config(path: Path | str) -> SurveyConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SurveyConfigError([f"{path}: file not found"]) from None
    except yaml.YAMLError as exc:
        raise SurveyConfigError([f"{path}: not valid YAML: {exc}"]) from None
    return parse_survey_config(data, source=str(path))


# --- tables ----------------------------------------------------------------------------------

# Invitation states. "declined" also covers a citizen who blocked the bot.
SCHEDULED, SENT, REMINDED, ANSWERED, DECLINED, EXPIRED = (
    "scheduled",
    "sent",
    "reminded",
    "answered",
    "declined",
    "expired",
)
OPEN_STATES = (SCHEDULED, SENT, REMINDED)
ORIGIN_APPLICATION, ORIGIN_ON_DEMAND = "application", "on_demand"


class SurveyInvitation(SQLModel, table=True):
    """One survey offered for one transaction; ``next_at`` is when the job next looks at it."""

    __tablename__ = "survey_invitations"
    __table_args__ = (Index("ix_survey_invitations_due", "status", "next_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # One per transaction, enforced here: "application:<id>" or an on-demand key.
    transaction_key: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    origin: str = Field(default=ORIGIN_APPLICATION, max_length=16)
    application_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    service_id: str = Field(max_length=80)
    unit: str | None = Field(default=None, max_length=80)
    status: str = Field(default=SCHEDULED, max_length=16)
    next_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    due_at: datetime = Field(sa_column=UtcDateTime(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    reminded_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    close_reason: str | None = Field(default=None, max_length=24)
    created_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))


def _answer_columns() -> dict[str, Any]:
    return {f"u{n}": None for n in range(1, MAX_ELEMENTS + 1)}


class SurveyResponse(SQLModel, table=True):
    """The answers to one invitation: a column per element code (U1 -> u1), so the index is a
    handful of SQL aggregates rather than rows loaded into Python."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_completed", "completed_at"),
        Index("ix_survey_responses_service", "service_id", "completed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("survey_invitations.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,  # one response per invitation
        )
    )
    service_id: str = Field(max_length=80)
    unit: str | None = Field(default=None, max_length=80)
    u1: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u2: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u3: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u4: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u5: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u6: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u7: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u8: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u9: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u10: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u11: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u12: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u13: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u14: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u15: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    u16: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    suggestion: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    age_group: str | None = Field(default=None, max_length=12)
    sex: str | None = Field(default=None, max_length=12)
    education: str | None = Field(default=None, max_length=12)
    occupation: str | None = Field(default=None, max_length=12)
    # After the elements: "suggestion", then "profile:<field>" for each, then "done".
    step: str = Field(default="questions", max_length=24)
    started_at: datetime = Field(default_factory=utcnow, sa_column=UtcDateTime(nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=UtcDateTime(nullable=True))

    def answer(self, code: str) -> int | None:
        return getattr(self, code.lower())


@dataclass(frozen=True)
class Schedule:
    """The timing settings of invitations, from Settings."""

    delay: timedelta = timedelta(hours=2)
    reminder_after: timedelta | None = timedelta(hours=24)
    expires_after: timedelta = timedelta(days=7)
    quiet: QuietHours | None = None

    def allowed(self, moment: datetime) -> datetime:
        return self.quiet.next_allowed(moment) if self.quiet else moment


def schedule_from_settings(settings: Settings) -> Schedule:
    return Schedule(
        delay=timedelta(minutes=settings.survey_delay_minutes),
        reminder_after=(
            timedelta(hours=settings.survey_reminder_hours)
            if settings.survey_reminder_hours
            else None
        ),
        expires_after=timedelta(days=settings.survey_expiry_days),
        quiet=QuietHours.parse(settings.quiet_hours, settings.tz),
    )


# --- invitations -----------------------------------------------------------------------------


class SurveyError(Exception):
    """A survey action that cannot happen; ``reason`` is a short machine word."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def application_key(application_id: int) -> str:
    return f"application:{application_id}"


def on_demand_key(user_id: int, service_id: str, moment: datetime, tz: ZoneInfo) -> str:
    # One on-demand survey per citizen, service and month: enough for an honest opinion,
    # not enough to stuff the index.
    return f"on-demand:{user_id}:{service_id}:{moment.astimezone(tz):%Y-%m}"


def invite(
    session: Session,
    *,
    transaction_key: str,
    user_id: int,
    service_id: str,
    unit: str | None,
    due_at: datetime,
    origin: str = ORIGIN_APPLICATION,
    application_id: int | None = None,
    status: str = SCHEDULED,
) -> SurveyInvitation:
    """The invitation of a transaction, created once: a second call returns the first one."""
    existing = session.exec(
        select(SurveyInvitation).where(SurveyInvitation.transaction_key == transaction_key)
    ).first()
    if existing is not None:
        return existing
    row = SurveyInvitation(
        transaction_key=transaction_key,
        origin=origin,
        application_id=application_id,
        user_id=user_id,
        service_id=service_id,
        unit=unit,
        status=status,
        due_at=due_at,
        next_at=due_at if status == SCHEDULED else None,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another process created it between our look and our insert.
        return session.exec(
            select(SurveyInvitation).where(SurveyInvitation.transaction_key == transaction_key)
        ).one()
    return row


def schedule_after_completion(
    session: Session,
    *,
    application_id: int,
    user_id: int,
    service_id: str,
    unit: str | None,
    completed_at: datetime,
    schedule: Schedule,
) -> SurveyInvitation:
    """Invite the citizen of a completed application after the delay, out of quiet hours."""
    return invite(
        session,
        transaction_key=application_key(application_id),
        user_id=user_id,
        service_id=service_id,
        unit=unit,
        due_at=schedule.allowed(completed_at + schedule.delay),
        application_id=application_id,
    )


def invite_for_application(
    session: Session, rt: Runtime, application: Application
) -> SurveyInvitation | None:
    """Subscribed to ``rt.events.application_completed``: invite the citizen who follows the
    application on Telegram (the first to follow, if several), once."""
    user_id = session.exec(
        select(ApplicationFollower.user_id)
        .where(ApplicationFollower.application_id == application.id)
        .order_by(ApplicationFollower.since, ApplicationFollower.user_id)
    ).first()
    if user_id is None:
        return None  # nobody follows it in the chat: nobody to ask
    return schedule_after_completion(
        session,
        application_id=application.id,
        user_id=user_id,
        service_id=application.service_id,
        unit=service_unit(rt, application.service_id),
        completed_at=application.closed_at or utcnow(),
        schedule=schedule_from_settings(rt.settings),
    )


def start_on_demand(
    session: Session,
    *,
    user_id: int,
    service_id: str,
    unit: str | None,
    now: datetime,
    tz: ZoneInfo,
    expires_after: timedelta = timedelta(days=7),
) -> SurveyInvitation:
    """A survey the citizen asked for: no message to schedule, it starts at once."""
    invitation = invite(
        session,
        transaction_key=on_demand_key(user_id, service_id, now, tz),
        user_id=user_id,
        service_id=service_id,
        unit=unit,
        due_at=now,
        origin=ORIGIN_ON_DEMAND,
        status=SENT,
    )
    if invitation.sent_at is None:
        invitation.sent_at = now
        invitation.expires_at = now + expires_after
        invitation.next_at = invitation.expires_at
        session.add(invitation)
    return invitation


def _owned(session: Session, invitation_id: int, user_id: int) -> SurveyInvitation:
    invitation = session.get(SurveyInvitation, invitation_id)
    if invitation is None or invitation.user_id != user_id:
        # Someone else's invitation id (or a forged one) looks exactly like a missing one.
        raise SurveyError("not_found")
    return invitation


def _response(session: Session, invitation_id: int) -> SurveyResponse | None:
    return session.exec(
        select(SurveyResponse).where(SurveyResponse.invitation_id == invitation_id)
    ).first()


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
    invitation = _owned(session, invitation_id, user_id)
    if invitation.status in (DECLINED, EXPIRED):
        raise SurveyError(invitation.status)
    if invitation.status == SCHEDULED:
        # Pressed before the job sent it (on-demand, or a resent keyboard): it is open now.
        invitation.status = SENT
        invitation.sent_at = now
        invitation.expires_at = now + timedelta(days=7)
        invitation.next_at = invitation.expires_at
        session.add(invitation)
    response = _response(session, invitation_id)
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
            response = _response(session, invitation_id)
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
    invitation = _owned(session, invitation_id, user_id)
    if invitation.status in (DECLINED, EXPIRED):
        raise SurveyError(invitation.status)
    response = _response(session, invitation_id)
    if response is None:
        begin(session, config, invitation_id=invitation_id, user_id=user_id, now=now)
        response = _response(session, invitation_id)
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
    _owned(session, invitation_id, user_id)
    response = _response(session, invitation_id)
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
    response = _response(session, invitation_id)
    if response is None:
        return Step("done", invitation_id)
    return next_step(config, invitation_id, response)


def decline(session: Session, *, invitation_id: int, user_id: int, now: datetime) -> bool:
    """The citizen said no: never asked again for this transaction. False if already closed."""
    invitation = _owned(session, invitation_id, user_id)
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
    return _owned(session, invitation_id, user_id)


def open_invitations(session: Session, user_id: int) -> Sequence[SurveyInvitation]:
    """A citizen's invitations that can still be answered, newest first."""
    return session.exec(
        select(SurveyInvitation)
        .where(SurveyInvitation.user_id == user_id, SurveyInvitation.status.in_((SENT, REMINDED)))
        .order_by(SurveyInvitation.id.desc())
    ).all()


def user_is_unreachable(session: Session, user_id: int) -> bool:
    user = session.get(User, user_id)
    return user is not None and user.unreachable_since is not None


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
            response = _response(session, invitation.id)
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


# --- wiring to the runtime -------------------------------------------------------------------


def survey_config(rt: Runtime) -> SurveyConfig:
    """The runtime's survey configuration, loaded (and validated) once per process."""
    if rt.survey_config is None:
        path = rt.settings.survey_file or (Path(rt.settings.knowledge_dir) / "survey.yaml")
        rt.survey_config = load_survey_config(path)
    return rt.survey_config


def service_name(rt: Runtime, service_id: str, locale: str) -> str:
    """The service's name from the knowledge base, or its id when it left the knowledge base."""
    kb = rt.knowledge
    service = kb.services.get(service_id) if kb is not None else None
    return service.name(locale) if service is not None else service_id


def service_unit(rt: Runtime, service_id: str) -> str | None:
    kb = rt.knowledge
    service = kb.services.get(service_id) if kb is not None else None
    return survey_config(rt).unit_of(service_id, getattr(service, "category", None))


def install(rt: Runtime) -> None:
    """Load (and so validate) the questionnaire, and invite the citizen of every application
    that is completed from now on, whether the change comes from the chat or the HTTP API."""
    survey_config(rt)
    if invite_for_application not in rt.events.application_completed:
        rt.events.application_completed.append(invite_for_application)
