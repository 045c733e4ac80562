"""The survey in the chat: the questionnaire step by step, its buttons, the suggestion flow,
/survei on demand, and the clock of invitations."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.conversation.reports import alert_supervisors, reported_in
from bot.core.i18n import N_, Translator
from bot.core.models import ConversationState, utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape as esc
from bot.people.conversations import clear_state, set_state
from bot.surveys.answering import (
    Step,
    begin,
    decline,
    invitation_of,
    open_invitations,
    record_answer,
    record_profile,
    record_suggestion,
)
from bot.surveys.invitations import SurveyError, schedule_from_settings, start_on_demand
from bot.surveys.models import ANSWERED, DECLINED, EXPIRED, SurveyInvitation
from bot.surveys.questionnaire import SurveyConfig, service_name, service_unit, survey_config
from bot.surveys.schedule import process_due_invitations
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    edit_in_place,
    main_menu,
    reply_html,
    runtime,
    translator,
    unknown_button,
)

log = logging.getLogger(__name__)

FLOW = "survey"

MENU_COMMANDS = (
    ("survei", "survey", N_("Rate our service (satisfaction survey)")),
    ("ikm", "ikm", N_("Our satisfaction index")),
)


# --- rendering the questionnaire -------------------------------------------------------------


def _service_title(rt: Runtime, invitation: SurveyInvitation, locale: str) -> str:
    return service_name(rt, invitation.service_id, locale)


def render_step(
    rt: Runtime, tr: Translator, invitation: SurveyInvitation, step: Step
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons of a step of the questionnaire."""
    _ = tr.gettext
    locale = tr.locale
    header = _("<b>Survey: {service}</b>").format(
        service=esc(_service_title(rt, invitation, locale))
    )
    if step.kind == "question" and step.element is not None:
        element = step.element
        text = "\n".join(
            [
                header,
                _("Question {position}/{total} · {element}").format(
                    position=step.position, total=step.total, element=esc(element.name.get(locale))
                ),
                "",
                esc(element.question.get(locale)),
            ]
        )
        buttons = [
            [
                InlineKeyboardButton(
                    label.get(locale),
                    callback_data=CallbackData(
                        "sv", "a", invitation.id, f"{element.code}:{value}"
                    ).pack(),
                )
            ]
            for value, label in zip(range(4, 0, -1), reversed(element.answers), strict=True)
        ]
        return text, InlineKeyboardMarkup(buttons)
    if step.kind == "suggestion":
        text = "\n".join(
            [
                header,
                _("Thank you, all questions are answered."),
                "",
                _("Do you have a suggestion for us? Write it in one message, or press Skip."),
            ]
        )
        skip = InlineKeyboardButton(
            _("Skip"), callback_data=CallbackData("sv", "s", invitation.id).pack()
        )
        return text, InlineKeyboardMarkup([[skip]])
    if step.kind == "profile" and step.profile is not None:
        question = step.profile
        index = [p.field for p in surveys_config(rt).profile].index(question.field)
        text = "\n".join(
            [
                header,
                _("About you (optional; it helps us read the results, never your name):"),
                "",
                esc(question.question.get(locale)),
            ]
        )
        options = [
            InlineKeyboardButton(
                option.label.get(locale),
                callback_data=CallbackData(
                    "sv", "p", invitation.id, f"{index}:{option.code}"
                ).pack(),
            )
            for option in question.options
        ]
        rows = [options[i : i + 2] for i in range(0, len(options), 2)]
        rows.append(
            [
                InlineKeyboardButton(
                    _("Skip"),
                    callback_data=CallbackData("sv", "p", invitation.id, f"{index}:-").pack(),
                )
            ]
        )
        return text, InlineKeyboardMarkup(rows)
    return thank_you(tr), None


def thank_you(tr: Translator) -> str:
    _ = tr.gettext
    return "\n".join(
        [
            _("<b>Thank you for your answers!</b>"),
            _(
                "They are counted, without your name, in the office's satisfaction index (IKM) "
                "under PermenPAN-RB 14/2017. The office publishes the index every period, and "
                "the elements with the lowest scores are the first ones it works to improve. "
                "Every suggestion is read by the office."
            ),
            _("Type /ikm to see the published index."),
        ]
    )


def surveys_config(rt: Runtime) -> SurveyConfig:
    return survey_config(rt)


# --- the survey's buttons --------------------------------------------------------------------


async def replace_pressed(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Replace the pressed message with the next step (so old buttons cannot be reused)."""
    await edit_in_place(
        update.callback_query.edit_message_text(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
        )
    )


CLOSED_REASONS = {
    DECLINED: N_("You said no to this survey, so it is closed. Thank you."),
    EXPIRED: N_("This survey has expired. Thank you for your interest."),
}


async def survey_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    pressed = CallbackData.parse(query.data, "sv", with_id={"go", "no", "a", "s", "p"})
    kind = pressed.action if pressed is not None else ""
    user_id = query.from_user.id
    chat_id = update.effective_chat.id if update.effective_chat else user_id
    config = surveys_config(rt)
    now = utcnow()
    if pressed is not None and kind == "svc" and pressed.arg is not None:
        await _start_on_demand(update, context, pressed.arg)
        return
    if pressed is None or pressed.id is None:
        await unknown_button(update, context)
        return
    invitation_id = pressed.id
    answer = pressed.arg_parts(2)
    notice: str | None = None
    step: Step | None = None
    declined = False
    try:
        with rt.db.session() as session:
            if kind == "go" and pressed.arg is None:
                step = begin(
                    session, config, invitation_id=invitation_id, user_id=user_id, now=now
                )
            elif kind == "no" and pressed.arg is None:
                declined = decline(
                    session, invitation_id=invitation_id, user_id=user_id, now=now
                )
                step = None
            elif kind == "a" and answer is not None and answer[1].isdigit():
                outcome = record_answer(
                    session,
                    config,
                    invitation_id=invitation_id,
                    user_id=user_id,
                    code=answer[0],
                    value=int(answer[1]),
                    now=now,
                )
                step = outcome.step
                if not outcome.recorded:
                    notice = _("Your answer to this question was already recorded.")
            elif kind == "s" and pressed.arg is None:
                outcome = record_suggestion(
                    session,
                    config,
                    invitation_id=invitation_id,
                    user_id=user_id,
                    text=None,
                    now=now,
                )
                step = outcome.step
                if not outcome.recorded:
                    notice = _("Already recorded.")
            elif kind == "p" and answer is not None and answer[0].isdigit():
                position = int(answer[0])
                if position >= len(config.profile):
                    raise SurveyError("bad_answer")
                outcome = record_profile(
                    session,
                    config,
                    invitation_id=invitation_id,
                    user_id=user_id,
                    field_name=config.profile[position].field,
                    option=None if answer[1] == "-" else answer[1],
                    now=now,
                )
                step = outcome.step
                if not outcome.recorded:
                    notice = _("Already recorded.")
            else:
                raise SurveyError("bad_answer")
            invitation = invitation_of(session, invitation_id, user_id)
            if step is not None:
                _keep_flow(session, chat_id, user_id, step)
    except SurveyError as exc:
        if exc.reason in CLOSED_REASONS:
            await query.answer(_(CLOSED_REASONS[exc.reason]), show_alert=True)
            return
        # Someone else's invitation, a forged or a stale button: change nothing, say so.
        await unknown_button(update, context)
        return
    if step is None:
        await query.answer()
        await replace_pressed(
            update,
            _("All right, we will not ask you about this again. Thank you.")
            if declined
            else _("This survey is already closed."),
            None,
        )
        return
    # A double press, or a press handled again after a takeover (whose first handling may have
    # recorded the answer and stopped before showing the next step): the answer stands, and
    # the screen shows the step the survey is at ("not modified" when it already does).
    await query.answer(notice)
    text, markup = render_step(rt, tr, invitation, step)
    await replace_pressed(update, text, markup)


def _keep_flow(session, chat_id: int, user_id: int, step: Step) -> None:  # noqa: ANN001
    """Free text goes to the survey only while it waits for the suggestion."""
    if step.kind == "suggestion":
        set_state(
            session,
            chat_id=chat_id,
            user_id=user_id,
            flow=FLOW,
            step="suggestion",
            data={"invitation": step.invitation_id},
        )
    else:
        clear_state(session, chat_id=chat_id, user_id=user_id)


async def suggestion_flow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    text = update.message.text if update.message else None
    if not text:
        await reply_html(update, _("Please write your suggestion as text, or press Skip."))
        return
    user_id = update.effective_user.id
    try:
        with rt.db.session() as session:
            outcome = record_suggestion(
                session,
                surveys_config(rt),
                invitation_id=int(state.data["invitation"]),
                user_id=user_id,
                text=text,
                now=utcnow(),
            )
            invitation = invitation_of(session, outcome.step.invitation_id, user_id)
            _keep_flow(session, update.effective_chat.id, user_id, outcome.step)
            reported = reported_in(text)
            if reported:
                alert_supervisors(
                    session, rt, text=text, reason=reported, service_id=invitation.service_id,
                    unit=invitation.unit, key=f"svy:{invitation.id}:report",
                )
    except (SurveyError, KeyError, ValueError):
        with rt.db.session() as session:
            clear_state(session, chat_id=update.effective_chat.id, user_id=user_id)
        await reply_html(update, _("This survey is already closed."), main_menu(_))
        return
    body, markup = render_step(rt, tr, invitation, outcome.step)
    await reply_html(update, _("Thank you, your suggestion is noted.") + "\n\n" + body, markup)
    if reported:
        from handlers.conversation import offer_complaint

        await offer_complaint(update, context, text, reason=reported,
                              service_id=invitation.service_id)


# --- on demand: /survei ----------------------------------------------------------------------


def service_buttons(
    rt: Runtime, locale: str, prefix: str, action: str
) -> list[list[InlineKeyboardButton]]:
    kb = rt.knowledge
    rows = []
    for service_id, service in kb.services.items() if kb is not None else []:
        data = CallbackData.fitting(prefix, action, arg=service_id)
        if data is not None:
            rows.append([InlineKeyboardButton(service.name(locale), callback_data=data.pack())])
    return rows


async def survey_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    rows: list[list[InlineKeyboardButton]] = []
    with rt.db.session() as session:
        for invitation in open_invitations(session, update.effective_user.id)[:3]:
            rows.append(
                [
                    InlineKeyboardButton(
                        _("▶ Continue: {service}").format(
                            service=_service_title(rt, invitation, tr.locale)
                        ),
                        callback_data=CallbackData("sv", "go", invitation.id).pack(),
                    )
                ]
            )
    rows += service_buttons(rt, tr.locale, "sv", "svc")
    await reply_html(
        update,
        _(
            "<b>Satisfaction survey</b>\nWhich service did you use? {count} short questions, "
            "about one minute."
        ).format(count=len(surveys_config(rt).elements)),
        InlineKeyboardMarkup(rows),
    )


async def menu_survey(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer()
    await survey_command(update, context)


async def _start_on_demand(
    update: Update, context: ContextTypes.DEFAULT_TYPE, service_id: str
) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    query = update.callback_query
    kb = rt.knowledge
    if kb is None or service_id not in kb.services:
        await unknown_button(update, context)
        return
    user_id = query.from_user.id
    now = utcnow()
    with rt.db.session() as session:
        invitation = start_on_demand(
            session,
            user_id=user_id,
            service_id=service_id,
            unit=service_unit(rt, service_id),
            now=now,
            tz=rt.tz,
            expires_after=schedule_from_settings(rt.settings).expires_after,
        )
        if invitation.status in (ANSWERED, DECLINED, EXPIRED):
            step = None
        else:
            step = begin(
                session,
                surveys_config(rt),
                invitation_id=invitation.id,
                user_id=user_id,
                now=now,
            )
            _keep_flow(session, update.effective_chat.id, user_id, step)
    await query.answer()
    if step is None:
        await replace_pressed(
            update,
            _("You already gave your opinion about {service} this month. Thank you!").format(
                service=esc(_service_title(rt, invitation, tr.locale))
            ),
            None,
        )
        return
    text, markup = render_step(rt, tr, invitation, step)
    await replace_pressed(update, text, markup)


# --- the schedule ----------------------------------------------------------------------------


async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The clock only: what is due, and what was already done, lives in the database."""
    rt = runtime(context)
    with rt.db.session() as session:
        result = process_due_invitations(session, rt)
    if result.invited or result.reminded or result.expired:
        log.info("surveys: %s", result)
