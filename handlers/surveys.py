"""Satisfaction survey in the chat (/survei), its invitations' job, and the index (/ikm)."""

from __future__ import annotations

import gzip
import io
import logging
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import surveys
from bot.conversation.reports import alert_supervisors, reported_in
from bot.conversations import clear_state, set_state
from bot.i18n import N_, Translator
from bot.ikm_chart import render_chart
from bot.ikm_report import (
    GRADE_MEANINGS,
    Period,
    build_report,
    format_index,
    index_trend,
    parse_period,
    period_containing,
    render_report,
    responses_csv,
    summary_csv,
)
from bot.models import ConversationState, utcnow
from bot.roles import has_role
from bot.runtime import Runtime
from handlers.common import (
    CITIZEN_COMMANDS,
    GROUP_FEATURES,
    edit_in_place,
    main_menu,
    register_flow,
    reply_html,
    runtime,
    translator,
    unknown_button,
    user_role,
)
from handlers.common import escape as esc

log = logging.getLogger(__name__)

FLOW = "survey"
CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data
COMPRESS_ABOVE = 10 * 1024 * 1024  # bytes of CSV sent as they are; above, gzipped

for _command in (
    ("survei", "survey", N_("Rate our service (satisfaction survey)")),
    ("ikm", "ikm", N_("Our satisfaction index")),
):
    if _command not in CITIZEN_COMMANDS:
        CITIZEN_COMMANDS.append(_command)


# --- rendering the questionnaire -------------------------------------------------------------


def _service_title(rt: Runtime, invitation: surveys.SurveyInvitation, locale: str) -> str:
    return surveys.service_name(rt, invitation.service_id, locale)


def render_step(
    rt: Runtime, tr: Translator, invitation: surveys.SurveyInvitation, step: surveys.Step
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
                    callback_data=f"sv:a:{invitation.id}:{element.code}:{value}",
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
        skip = InlineKeyboardButton(_("Skip"), callback_data=f"sv:s:{invitation.id}")
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
                callback_data=f"sv:p:{invitation.id}:{index}:{option.code}",
            )
            for option in question.options
        ]
        rows = [options[i : i + 2] for i in range(0, len(options), 2)]
        rows.append(
            [InlineKeyboardButton(_("Skip"), callback_data=f"sv:p:{invitation.id}:{index}:-")]
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


def surveys_config(rt: Runtime) -> surveys.SurveyConfig:
    return surveys.survey_config(rt)


# --- the survey's buttons --------------------------------------------------------------------


async def _show(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Replace the pressed message with the next step (so old buttons cannot be reused)."""
    await edit_in_place(
        update.callback_query.edit_message_text(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
        )
    )


CLOSED_REASONS = {
    surveys.DECLINED: N_("You said no to this survey, so it is closed. Thank you."),
    surveys.EXPIRED: N_("This survey has expired. Thank you for your interest."),
}


async def survey_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    parts = (query.data or "").split(":")
    kind = parts[1] if len(parts) > 1 else ""
    user_id = query.from_user.id
    chat_id = update.effective_chat.id if update.effective_chat else user_id
    config = surveys_config(rt)
    now = utcnow()
    if kind == "svc" and len(parts) == 3:
        await _start_on_demand(update, context, parts[2])
        return
    try:
        invitation_id = int(parts[2])
    except (IndexError, ValueError):
        await unknown_button(update, context)
        return
    notice: str | None = None
    step: surveys.Step | None = None
    declined = False
    try:
        with rt.db.session() as session:
            if kind == "go" and len(parts) == 3:
                step = surveys.begin(
                    session, config, invitation_id=invitation_id, user_id=user_id, now=now
                )
            elif kind == "no" and len(parts) == 3:
                declined = surveys.decline(
                    session, invitation_id=invitation_id, user_id=user_id, now=now
                )
                step = None
            elif kind == "a" and len(parts) == 5 and parts[4].isdigit():
                outcome = surveys.record_answer(
                    session, config, invitation_id=invitation_id, user_id=user_id,
                    code=parts[3], value=int(parts[4]), now=now,
                )
                step = outcome.step
                if not outcome.recorded:
                    notice = _("Your answer to this question was already recorded.")
            elif kind == "s" and len(parts) == 3:
                outcome = surveys.record_suggestion(
                    session, config, invitation_id=invitation_id, user_id=user_id, text=None,
                    now=now,
                )
                step = outcome.step
                if not outcome.recorded:
                    notice = _("Already recorded.")
            elif kind == "p" and len(parts) == 5 and parts[3].isdigit():
                position = int(parts[3])
                if position >= len(config.profile):
                    raise surveys.SurveyError("bad_answer")
                outcome = surveys.record_profile(
                    session, config, invitation_id=invitation_id, user_id=user_id,
                    field_name=config.profile[position].field,
                    option=None if parts[4] == "-" else parts[4], now=now,
                )
                step = outcome.step
                if not outcome.recorded:
                    notice = _("Already recorded.")
            else:
                raise surveys.SurveyError("bad_answer")
            invitation = surveys.invitation_of(session, invitation_id, user_id)
            if step is not None:
                _keep_flow(session, chat_id, user_id, step)
    except surveys.SurveyError as exc:
        if exc.reason in CLOSED_REASONS:
            await query.answer(_(CLOSED_REASONS[exc.reason]), show_alert=True)
            return
        # Someone else's invitation, a forged or a stale button: change nothing, say so.
        await unknown_button(update, context)
        return
    if step is None:
        await query.answer()
        await _show(
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
    await _show(update, text, markup)


def _keep_flow(session, chat_id: int, user_id: int, step: surveys.Step) -> None:  # noqa: ANN001
    """Free text goes to the survey only while it waits for the suggestion."""
    if step.kind == "suggestion":
        set_state(
            session, chat_id=chat_id, user_id=user_id, flow=FLOW, step="suggestion",
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
            outcome = surveys.record_suggestion(
                session, surveys_config(rt), invitation_id=int(state.data["invitation"]),
                user_id=user_id, text=text, now=utcnow(),
            )
            invitation = surveys.invitation_of(session, outcome.step.invitation_id, user_id)
            _keep_flow(session, update.effective_chat.id, user_id, outcome.step)
            reported = reported_in(text)
            if reported:
                alert_supervisors(
                    session, rt, text=text, reason=reported, service_id=invitation.service_id,
                    unit=invitation.unit, key=f"svy:{invitation.id}:report",
                )
    except (surveys.SurveyError, KeyError, ValueError):
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


def _service_buttons(rt: Runtime, locale: str, prefix: str) -> list[list[InlineKeyboardButton]]:
    kb = rt.knowledge
    rows = []
    for service_id, service in (kb.services.items() if kb is not None else []):
        data = f"{prefix}{service_id}"
        if len(data.encode()) <= CALLBACK_LIMIT:
            rows.append([InlineKeyboardButton(service.name(locale), callback_data=data)])
    return rows


async def survey_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    rows: list[list[InlineKeyboardButton]] = []
    with rt.db.session() as session:
        for invitation in surveys.open_invitations(session, update.effective_user.id)[:3]:
            rows.append(
                [
                    InlineKeyboardButton(
                        _("▶ Continue: {service}").format(
                            service=_service_title(rt, invitation, tr.locale)
                        ),
                        callback_data=f"sv:go:{invitation.id}",
                    )
                ]
            )
    rows += _service_buttons(rt, tr.locale, "sv:svc:")
    await reply_html(
        update,
        _("<b>Satisfaction survey</b>\nWhich service did you use? {count} short questions, "
          "about one minute.").format(count=len(surveys_config(rt).elements)),
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
        invitation = surveys.start_on_demand(
            session, user_id=user_id, service_id=service_id,
            unit=surveys.service_unit(rt, service_id), now=now, tz=rt.tz,
            expires_after=surveys.schedule_from_settings(rt.settings).expires_after,
        )
        if invitation.status in (surveys.ANSWERED, surveys.DECLINED, surveys.EXPIRED):
            step = None
        else:
            step = surveys.begin(
                session, surveys_config(rt), invitation_id=invitation.id, user_id=user_id,
                now=now,
            )
            _keep_flow(session, update.effective_chat.id, user_id, step)
    await query.answer()
    if step is None:
        await _show(
            update,
            _("You already gave your opinion about {service} this month. Thank you!").format(
                service=esc(_service_title(rt, invitation, tr.locale))
            ),
            None,
        )
        return
    text, markup = render_step(rt, tr, invitation, step)
    await _show(update, text, markup)


# --- the index: /ikm -------------------------------------------------------------------------


def published_period(rt: Runtime, today: date | None = None) -> Period:
    """What citizens see: the last complete month (a running month is not published yet)."""
    today = today or utcnow().astimezone(rt.tz).date()
    return period_containing("month", today).previous()


def _name_of(rt: Runtime, tr: Translator, by: str):  # noqa: ANN202
    def name(key: str | None) -> str:
        if key is None:
            return tr.gettext("All services")
        if by == "service":
            return surveys.service_name(rt, key, tr.locale)
        return _unit_name(rt, key, tr.locale)

    return name


def _unit_name(rt: Runtime, key: str, locale: str) -> str:
    office = getattr(rt.knowledge, "office", None)
    for category in getattr(office, "categories", ()) or ():
        if getattr(category, "id", None) == key:
            name = getattr(category, "name", key)
            return name.get(locale) if hasattr(name, "get") else str(name)
    return key


async def ikm_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if has_role(user_role(update, context), "supervisor"):
        await _supervisor_report(update, context)
    else:
        await _citizen_choice(update, context)


async def _supervisor_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ikm [period] [service|unit]: figures, chart, CSV of the responses and the summary."""
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    args = list(context.args or [])
    by = "service"
    if args and args[-1].lower() in ("service", "unit", "layanan", "unit-kerja"):
        by = "unit" if args.pop().lower().startswith("unit") else "service"
    today = utcnow().astimezone(rt.tz).date()
    try:
        period = parse_period(" ".join(args), today)
    except ValueError:
        await reply_html(
            update,
            _("I could not read that period. Write for example /ikm 2026-11, /ikm 2026-Q3, "
              "/ikm 2026-S1, /ikm 2026 or /ikm 2026-01-01..2026-03-31, optionally followed by "
              "unit."),
        )
        return
    config = surveys_config(rt)
    with rt.db.session() as session:
        report = build_report(
            session, config, period, rt.tz, by=by,
            unit_of=lambda service_id: surveys.service_unit(rt, service_id),
        )
        trend = index_trend(session, config, period, rt.tz, count=6)
        responses = "".join(responses_csv(session, config, period, rt.tz))
    chat = update.effective_chat
    await reply_html(update, render_report(tr, report, config, _name_of(rt, tr, by)))
    png = render_chart(
        report, trend, config,
        title=_("Satisfaction index {period}").format(period=period.label),
        trend_title=_("Index over the last periods"),
    )
    await chat.send_photo(
        InputFile(io.BytesIO(png), filename=f"ikm-{period.label}.png"),
        caption=_("Elements (NRR × 25) against the grade bands of {rule}; below, the index over "
                  "the last periods.").format(rule=report.rule.title),
    )
    data, filename = responses.encode("utf-8"), f"ikm-responses-{period.label}.csv"
    if len(data) > COMPRESS_ABOVE:
        # A year of a busy office can pass Telegram's 50 MB for bots; CSV shrinks well.
        data, filename = gzip.compress(data), filename + ".gz"
    await chat.send_document(
        InputFile(io.BytesIO(data), filename=filename),
        caption=_("Responses, without personal data."),
    )
    await chat.send_document(
        InputFile(
            io.BytesIO(summary_csv(report, config).encode("utf-8")),
            filename=f"ikm-summary-{period.label}.csv",
        ),
        caption=_("Summary per {grouping}.").format(
            grouping=_("service") if by == "service" else _("unit")
        ),
    )


async def _citizen_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    rows = [[InlineKeyboardButton(_("All services"), callback_data="ikm:all")]]
    rows += _service_buttons(rt, tr.locale, "ikm:s:")
    await reply_html(
        update,
        _("<b>Satisfaction index (IKM)</b>\nThe office publishes its citizens' satisfaction "
          "every month. Which service would you like to see?"),
        InlineKeyboardMarkup(rows),
    )


async def ikm_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    query = update.callback_query
    data = query.data or ""
    service_id: str | None = None
    if data.startswith("ikm:s:"):
        service_id = data.removeprefix("ikm:s:")
        if rt.knowledge is None or service_id not in rt.knowledge.services:
            await unknown_button(update, context)
            return
    elif data != "ikm:all":
        await unknown_button(update, context)
        return
    period = published_period(rt)
    with rt.db.session() as session:
        report = build_report(
            session, surveys_config(rt), period, rt.tz,
            by="service" if service_id else "overall", only=service_id,
        )
    figures = report.overall
    name = surveys.service_name(rt, service_id, tr.locale) if service_id else _("All services")
    score = figures.score
    lines = [f"<b>{esc(name)}</b>", _("Period: {period}").format(period=period.label)]
    if score is None:
        lines.append(_("No index has been published for this period yet."))
    else:
        lines.append(
            _("Satisfaction index: <b>{index}</b>, grade {grade}").format(
                index=format_index(tr, score), grade=_(GRADE_MEANINGS[score.grade])
            )
        )
        lines.append(
            tr.ngettext("From {count} respondent.", "From {count} respondents.",
                        figures.respondents).format(count=figures.respondents)
        )
        if not figures.sample_reached:
            lines.append(_("The number of respondents is still below the minimum sample, so "
                           "read this figure with care."))
    lines.append(_("Method: {rule}.").format(rule=report.rule.title))
    await query.answer()
    await _show(update, "\n".join(lines), None)


# --- the schedule ----------------------------------------------------------------------------


async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The clock only: what is due, and what was already done, lives in the database."""
    rt = runtime(context)
    with rt.db.session() as session:
        result = surveys.process_due_invitations(session, rt)
    if result.invited or result.reminded or result.expired:
        log.info("surveys: %s", result)


def register(app: Application) -> None:
    rt: Runtime = app.bot_data["runtime"]
    surveys.install(rt)  # normally done by build_runtime already; idempotent
    app.add_handler(CommandHandler(["survei", "survey"], survey_command), GROUP_FEATURES)
    app.add_handler(CommandHandler("ikm", ikm_command), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(menu_survey, pattern=r"^menu:survey$"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(survey_button, pattern=r"^sv:"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(ikm_button, pattern=r"^ikm:"), GROUP_FEATURES)
    register_flow(FLOW, suggestion_flow)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            tick, interval=rt.settings.survey_tick_seconds, first=5, name="survey-invitations"
        )
