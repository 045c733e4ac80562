"""The steps of the citizen's filing flow: which ones a complaint needs (a step whose answer is
already known, from the message that started it or from the description, or that does not apply
to the category, is skipped), and each step's question with its buttons."""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot.complaints.dates import day_in_text, recent_days
from bot.complaints.filing import service_in_text
from bot.complaints.render import format_day, service_name
from bot.complaints.vocabulary import (
    MAX_EVIDENCE,
    PRIVACY_CHOICES,
    PRIVACY_LABELS,
    PRIVACY_NOTES,
    categories,
    category_of,
)
from bot.core.i18n import Translator
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.telegram_rules.callback import CallbackData
from handlers.complaints.shared import STEPS, inline_keyboard

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | None


def applies(rt: Runtime, step: str, data: dict[str, Any]) -> bool:
    """Whether the flow still has to ask ``step``."""
    if step == "category":
        return "category" not in data
    if step == "description":
        return not data.get("description")
    if step == "service":
        return bool(data.get("services")) and "service_id" not in data
    if step == "when":
        return "occurred_on" not in data
    if step == "location":
        return category_of(rt, data["category"]).has_place and "where" not in data
    return True


def next_step(rt: Runtime, step: str | None, data: dict[str, Any]) -> str:
    """The first step after ``step`` (None: from the start) that still has to be asked."""
    index = 0 if step is None else STEPS.index(step) + 1
    while not applies(rt, STEPS[index], data):
        index += 1
    return STEPS[index]


def read_description(rt: Runtime, data: dict[str, Any], today: date) -> None:
    """What the description already says: the service it names and the day it happened, so
    that neither is asked."""
    text = data.get("description") or ""
    if "service_id" not in data and data.get("services"):
        named = service_in_text(rt, text)
        if named in data["services"]:
            data["service_id"] = named
    if "occurred_on" not in data:
        day = day_in_text(text, today)
        if day is not None:
            data["occurred_on"] = day.isoformat()


def skip_words(tr: Translator) -> set[str]:
    """What a citizen types or presses to leave the place out, in either language."""
    return {tr.gettext("⏭ Skip").casefold(), "⏭ skip", "⏭ lewati", "skip", "lewati", "-"}


def question(
    rt: Runtime, step: str, data: dict[str, Any], tr: Translator, today: date
) -> tuple[str, Markup]:
    """The prompt of one step of the filing flow, with its buttons."""
    _ = tr.gettext
    skip = _("⏭ Skip")
    if step == "category":
        rows = [
            [(c.title(tr), CallbackData("cf", "cat", arg=c.key).pack())] for c in categories(rt)
        ]
        return _("📣 <b>New complaint</b>\nWhat is it about?"), inline_keyboard(rows)
    if step == "description":
        return (
            _(
                "What happened? A few words are enough, for example: <i>dimintai uang Rp50.000 "
                "di loket 3</i>. You can add details and photos next."
            ),
            None,
        )
    if step == "service":
        rows = [
            [
                (
                    service_name(rt, sid, tr.locale) or sid,
                    CallbackData("cf", "svc", arg=str(i)).pack(),
                )
            ]
            for i, sid in enumerate(data.get("services", []))
        ]
        rows.append([(_("No particular service"), CallbackData("cf", "svc", arg="none").pack())])
        return _("Which service is it about?"), inline_keyboard(rows)
    if step == "when":
        return _when_question(data, tr, today)
    if step == "location":
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(_("📍 Share my location"), request_location=True)], [skip]],
            resize_keyboard=True,
            one_time_keyboard=True,
            input_field_placeholder=_("e.g. counter 3, 2nd floor"),
        )
        return (
            _(
                "Where did it happen? Write the place (for example: <i>loket 3, lantai 2</i>), "
                "share your location with the button below, or press Skip."
            ),
            keyboard,
        )
    if step == "evidence":
        count = len(data.get("evidence", []))
        text = _(
            "You may send photos or documents as evidence (up to {max}). Press Done when "
            "finished, or if you have none."
        ).format(max=MAX_EVIDENCE)
        if count:
            text = (
                tr.ngettext("Received {n} file.", "Received {n} files.", count).format(n=count)
                + " "
                + text
            )
        return text, inline_keyboard([[(_("✔️ Done"), CallbackData("cf", "ev", arg="done").pack())]])
    if step == "privacy":
        lines = [_("Who may see your name?"), ""]
        for choice in PRIVACY_CHOICES:
            lines.append(f"<b>{_(PRIVACY_LABELS[choice])}</b>: {_(PRIVACY_NOTES[choice])}")
        rows = [
            [(_(PRIVACY_LABELS[c]), CallbackData("cf", "priv", arg=c).pack())]
            for c in PRIVACY_CHOICES
        ]
        return "\n".join(lines), inline_keyboard(rows)
    if step == "confirm":
        return summary(rt, data, tr), inline_keyboard(
            [
                [
                    (_("📨 Send complaint"), CallbackData("cf", "ok").pack()),
                    (_("✖️ Cancel"), CallbackData("cf", "no").pack()),
                ]
            ]
        )
    raise ValueError(f"unknown complaint step {step!r}")


def _when_question(
    data: dict[str, Any], tr: Translator, today: date
) -> tuple[str, InlineKeyboardMarkup]:
    _ = tr.gettext
    skip = (_("⏭ Skip"), CallbackData("cf", "when", arg="skip").pack())
    if data.get("when_pick"):
        days = [
            (tr.short_day(day), CallbackData("cf", "when", arg=day.isoformat()).pack())
            for day in recent_days(today)
        ]
        rows = [days[i : i + 2] for i in range(0, len(days), 2)]
        return (
            _("Which day? For an earlier one, write the date, like 3 Nov or 03/11/2026."),
            inline_keyboard([*rows, [skip]]),
        )
    return (
        _("When did it happen? Press a day, or write it (for example: <i>kemarin siang</i>, "
          "<i>12 Nov</i>)."),
        inline_keyboard(
            [
                [
                    (_("Today"), CallbackData("cf", "when", arg="today").pack()),
                    (_("Yesterday"), CallbackData("cf", "when", arg="yest").pack()),
                ],
                [(_("📅 Another day"), CallbackData("cf", "when", arg="pick").pack()), skip],
            ]
        ),
    )


def summary(rt: Runtime, data: dict[str, Any], tr: Translator) -> str:
    _ = tr.gettext
    category = category_of(rt, data["category"])
    lines = [
        _("<b>Please check your complaint</b>"),
        _("Category: {category}").format(category=escape(category.title(tr))),
    ]
    service = service_name(rt, data.get("service_id"), tr.locale)
    if service:
        lines.append(_("Service: {service}").format(service=escape(service)))
    if data.get("occurred_on"):
        day = date.fromisoformat(data["occurred_on"])
        lines.append(_("Happened on: {date}").format(date=format_day(day, tr)))
    if data.get("place"):
        lines.append(_("Place: {place}").format(place=escape(data["place"])))
    if data.get("location"):
        lines.append(
            _("Location: {lat}, {lon}").format(lat=data["location"][0], lon=data["location"][1])
        )
    evidence = len(data.get("evidence", []))
    if evidence:
        lines.append(
            tr.ngettext("Evidence: {n} file", "Evidence: {n} files", evidence).format(n=evidence)
        )
    privacy = data["privacy"]
    lines.append(_("Privacy: {privacy}").format(privacy=_(PRIVACY_LABELS[privacy])))
    lines.append(f"<i>{_(PRIVACY_NOTES[privacy])}</i>")
    lines += ["", escape(data["description"])]
    return "\n".join(lines)
