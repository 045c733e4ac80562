"""The unanswered questions as staff read them: the /belumterjawab list and the weekly digest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.core.i18n import Translator
from bot.core.text import escape
from bot.feedback.log import LoggedQuestion

SNIPPET = 200  # characters of a question or an answer shown in a list


def _cut(text: str) -> str:
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


def question_lines(
    questions: list[LoggedQuestion], tr: Translator, tz: ZoneInfo,
    name_of: Callable[[str], str],
) -> list[str]:
    _ = tr.gettext
    lines: list[str] = []
    for n, q in enumerate(questions, 1):
        where = escape(name_of(q.service_id)) if q.service_id else _("office-wide")
        head = _("{n}. {count}× <i>{text}</i>").format(
            n=n, count=q.count, text=escape(_cut(q.text))
        )
        details = [where]
        if q.rated_down:
            details.append(_("{count}× 👎").format(count=q.rated_down))
        details.append(_("last {date}").format(date=escape(tr.date(q.last_at, tz))))
        lines.append(head)
        lines.append("   " + " · ".join(details))
        for answer in q.answers[-1:]:
            lines.append("   " + _("💬 An officer answered: {answer}").format(
                answer=escape(_cut(answer))))
    return lines


def unanswered_list(
    questions: list[LoggedQuestion], tr: Translator, tz: ZoneInfo, days: int,
    name_of: Callable[[str], str], *, everything: bool,
) -> str:
    _ = tr.gettext
    title = _("<b>Unanswered questions, last {days} days</b>").format(days=days)
    scope = _("All units.") if everything else _("Your unit's questions and office-wide ones.")
    if not questions:
        return "\n".join([title, scope, "", _("No unanswered questions in this period.")])
    return "\n".join([
        title, scope, "", *question_lines(questions, tr, tz, name_of), "",
        _("Add the missing answers to the knowledge base, then /muatulang."),
    ])


def digest(
    questions: list[LoggedQuestion], tr: Translator, tz: ZoneInfo, week_start: date,
    name_of: Callable[[str], str], *, total: int,
) -> str:
    """The weekly post in the officers' group: the week's most asked unanswered questions."""
    _ = tr.gettext
    last_day = week_start + timedelta(days=6)
    period = (f"{week_start.day}/{week_start.month} – "
              f"{last_day.day}/{last_day.month}/{last_day.year}")
    asked = sum(q.count for q in questions)
    head = [
        _("📋 <b>Unanswered questions this past week</b> ({period})").format(period=period),
        tr.ngettext(
            "{n} question the bot could not answer well, asked {asked} times in all.",
            "{n} questions the bot could not answer well, asked {asked} times in all.",
            total,
        ).format(n=total, asked=asked),
        "",
    ]
    shown = questions[:10]
    tail = ["", _("The whole list: /belumterjawab. A good answer in the knowledge base helps "
                  "the next citizen who asks.")]
    return "\n".join(head + question_lines(shown, tr, tz, name_of) + tail)
