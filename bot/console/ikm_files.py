"""The official satisfaction-index report as files: a PDF (the figures as text, then the chart)
and an XLSX workbook with typed cells (dates as dates, the NRR and the index as numbers with
their decimals), both in the reader's language. Blocking work: the console runs it in a report
thread (bot/core/offload.py)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date

from bot.console.models import FollowUpAction
from bot.core.exports import Column, Sheet, xlsx_book
from bot.core.i18n import Translator
from bot.core.text import html_to_plain
from bot.surveys import ikm
from bot.surveys.questionnaire import SurveyConfig
from bot.surveys.report import GRADE_MEANINGS, Figures, Report, render_report

NameOf = Callable[[str | None], str]


def report_pdf(report: Report, config: SurveyConfig, tr: Translator, name_of: NameOf,
               chart: bytes) -> bytes:
    """The official report: the figures as text on the first pages, the chart on the last."""
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    text = html_to_plain(render_report(tr, report, config, name_of))
    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        lines = text.splitlines()
        for start in range(0, max(len(lines), 1), 60):
            figure = plt.figure(figsize=(8.27, 11.69))  # A4
            figure.text(0.07, 0.96, "\n".join(lines[start:start + 60]), va="top", ha="left",
                        fontsize=8.5, family="DejaVu Sans")
            pdf.savefig(figure)
            plt.close(figure)
        figure = plt.figure(figsize=(8.27, 11.69))
        axis = figure.add_axes((0.05, 0.2, 0.9, 0.75))
        axis.imshow(mpimg.imread(io.BytesIO(chart), format="png"))
        axis.axis("off")
        pdf.savefig(figure)
        plt.close(figure)
    return buffer.getvalue()


def _grade(tr: Translator, figures: Figures) -> str:
    score = figures.score
    return tr.gettext(GRADE_MEANINGS[score.grade]) if score is not None else ""


def report_xlsx(
    report: Report,
    config: SurveyConfig,
    tr: Translator,
    name_of: NameOf,
    actions: Sequence[tuple[FollowUpAction, str, str]],
) -> bytes:
    """Three sheets: the index per group and overall, the overall figures per element, and the
    follow-up actions (with the name of their service or unit and of their element)."""
    _ = tr.gettext
    last_day = date.fromordinal(report.period.end.toordinal() - 1)
    codes = [e.code for e in config.elements]
    index_columns = [
        Column(_("Period")), Column(_("From"), "date"), Column(_("To"), "date"),
        Column(_("Rule")), Column(_("Service") if report.by == "service" else _("Unit")),
        Column(_("Respondents"), "int"), Column(_("Completed transactions"), "int"),
        Column(_("Minimum sample"), "int"), Column(_("Sample reached")),
        *[Column(f"NRR {code}", "decimal4") for code in codes],
        Column(_("Index"), "decimal2"), Column(_("Grade")),
    ]
    index_rows = []
    for figures in (*report.groups, report.overall):
        score = figures.score
        name = name_of(None) if figures is report.overall else name_of(figures.key)
        index_rows.append([
            report.period.label, report.period.start, last_day, report.rule.title, name,
            figures.respondents, figures.population, figures.minimum_sample,
            _("yes") if figures.sample_reached else _("no"),
            *[float(v) if v is not None else None for v in figures.nrr.values()],
            float(score.index) if score is not None else None, _grade(tr, figures),
        ])
    rule = ikm.rule(report.overall.rule)
    element_rows = []
    for element in config.elements:
        value = report.overall.nrr.get(element.code)
        points = float(value) * ikm.INDEX_FACTOR if value is not None else None
        element_rows.append([
            element.code, element.name.get(tr.locale),
            float(value) if value is not None else None, points,
            tr.gettext(GRADE_MEANINGS[rule.grade(points)]) if points is not None else "",
        ])
    action_rows = [
        [action.taken_on, where, element_name, action.text]
        for action, where, element_name in actions
    ]
    return xlsx_book([
        Sheet(_("Index"), index_columns, index_rows),
        Sheet(_("Elements"), [
            Column(_("Code")), Column(_("Element")), Column("NRR", "decimal4"),
            Column(_("NRR × 25"), "decimal2"), Column(_("Grade")),
        ], element_rows),
        Sheet(_("Follow-up actions"), [
            Column(_("Date"), "date"), Column(_("Service or unit")), Column(_("Element")),
            Column(_("What the office did")),
        ], action_rows),
    ])
